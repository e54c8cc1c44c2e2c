//! `postbin init --workflow github [--build]`: writes
//! `.github/workflows/npm-publish.yml` at the repository root. On a
//! published release it sets the package version from the tag, pins the
//! `postbin` section from that release (`postbin init --from`: the API's
//! digests, checksums files), downloads each archive once to check it and
//! pin its size and chunk digests (`pin --download`), runs `postbin check`,
//! wraps each archive in
//! an npm package (`postbin pack-targets`) and publishes those, then the
//! package (`npm publish --provenance`). `--build` first builds the Rust crate for each target of
//! the section (cargo; on Linux runners through cargo-zigbuild), archives
//! each build under the asset name the url template gives, and uploads them
//! with `checksums.txt`.
//!
//! The matrix is one JSON object per line (valid YAML), so tests read it
//! back. `{version}` stays in asset names: the jobs substitute the tag's
//! version. Kept as one compact text: the installer has a size budget.

use crate::error::Error;
use crate::manifest::{Manifest, unscoped};
use crate::template;
use serde_json::json;
use std::fs;
use std::path::{Path, PathBuf};

pub const FILE: &str = ".github/workflows/npm-publish.yml";

const HEAD: &str =
    "# Written by `postbin init --workflow github`. On a published release: pins the npm
# package to the release's assets, checks it and publishes it with provenance
# (needs the NPM_TOKEN secret, or npm trusted publishing for this workflow).
name: npm publish
on:
  release:
    types: [published]
permissions:
  contents: read
jobs:
";

const BUILD: &str = "  build:
    strategy:
      fail-fast: false
      matrix:
        include:
@MATRIX@    runs-on: ${{ matrix.os }}
    env:
      TARGET: ${{ matrix.target }}
      FORMAT: ${{ matrix.format }}
      ASSET: ${{ matrix.asset }}
      BINS: ${{ matrix.bins }}
      ZIG: ${{ matrix.zig }}
      TAG: ${{ github.event.release.tag_name }}
      CARGO_TARGET_DIR: target
    steps:
      - uses: actions/checkout@v4
      - if: matrix.zig
        uses: mlugg/setup-zig@v2
      - if: matrix.zig
        uses: taiki-e/install-action@v2
        with:
          tool: cargo-zigbuild
      - name: Build and archive
        shell: bash
@CRATE@        run: |
          set -euo pipefail
          case $TARGET in
            universal2-*) rustup target add aarch64-apple-darwin x86_64-apple-darwin ;;
            *) rustup target add \"$TARGET\" ;;
          esac
          if [ \"$ZIG\" = true ]; then cargo zigbuild --release --target \"$TARGET\"; else cargo build --release --target \"$TARGET\"; fi
          v=$(@VERSION_OF_TAG@)
          dist=\"$GITHUB_WORKSPACE/dist\"
          mkdir -p stage \"$dist\"
          for bin in $BINS; do
            bin=${bin//\"{version}\"/$v}
            mkdir -p \"stage/$(dirname \"$bin\")\"
            cp \"target/$TARGET/release/${bin##*/}\" \"stage/$bin\"
          done
          out=\"$dist/${ASSET//\"{version}\"/$v}\"
          cd stage
          case $FORMAT in
            raw) cp \"$bin\" \"$out\" ;;
            tar.gz|tgz) tar -czf \"$out\" -- * ;;
            tar.xz) tar -cJf \"$out\" -- * ;;
            tar.zst) tar --zstd -cf \"$out\" -- * ;;
            zip) if command -v 7z >/dev/null; then 7z a -tzip \"$out\" -- *; else zip -qr \"$out\" -- *; fi ;;
          esac
      - uses: actions/upload-artifact@v4
        with:
          name: ${{ matrix.target }}
          path: dist/*
  upload:
    needs: build
    runs-on: ubuntu-latest
    permissions:
      contents: write
    steps:
      - uses: actions/download-artifact@v4
        with:
          path: dist
          merge-multiple: true
      - name: Upload the archives and checksums.txt
        working-directory: dist
        env:
          TAG: ${{ github.event.release.tag_name }}
          GH_TOKEN: ${{ github.token }}
        run: |
          sha256sum -- * > checksums.txt
          gh release upload \"$TAG\" --clobber --repo \"$GITHUB_REPOSITORY\" -- *
";

const PUBLISH: &str = "  publish:
@NEEDS@    runs-on: ubuntu-latest
    permissions:
      contents: read
      id-token: write
@PKG@    env:
      TAG: ${{ github.event.release.tag_name }}
      GITHUB_TOKEN: ${{ github.token }}
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 22
          registry-url: https://registry.npmjs.org
      - run: @INSTALL@
      - name: Version from the tag
        run: npm version \"$(@VERSION_OF_TAG@)\" --no-git-tag-version --allow-same-version
      - name: Pin from the release
        run: npx postbin init --from \"$GITHUB_REPOSITORY@$TAG\"
      - name: Check every archive, pin sizes and chunk digests (installs unpack while downloading)
        run: npx postbin pin --download
      - run: npx postbin check
      - name: Wrap each archive in an npm package, for networks that reach only a registry
        run: npx postbin pack-targets
      - name: Publish the wrappers before the package that pins them
        run: for f in .postbin/npm-targets/*.tgz; do npm publish \"$f\" --access public; done
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
      - run: npm publish --provenance --access public
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
";

/// Writes the workflow; `None` when the same file is already there.
pub fn write(
    package_dir: &Path,
    manifest: &Manifest,
    build: bool,
) -> Result<Option<PathBuf>, Error> {
    let root = repo_root(package_dir);
    let crate_dir = if build {
        let found = package_dir
            .ancestors()
            .take_while(|d| d.starts_with(&root))
            .find(|d| d.join("Cargo.toml").is_file());
        Some(found.ok_or_else(|| {
            Error::Usage(format!(
                "--build builds a Rust crate, but there is no Cargo.toml in {} or above it",
                package_dir.display()
            ))
        })?)
    } else {
        None
    };
    let rel = |dir: &Path| {
        let rel = dir.strip_prefix(&root).unwrap_or(Path::new(""));
        rel.to_string_lossy().replace('\\', "/")
    };
    let text = render(
        manifest,
        &rel(package_dir),
        crate_dir.map(rel).as_deref(),
        package_dir.join("package-lock.json").is_file(),
    )?;
    let path = root.join(FILE);
    match fs::read_to_string(&path) {
        Ok(old) if old == text => return Ok(None),
        Ok(_) => {
            return Err(Error::Usage(format!(
                "{} exists and differs from the workflow postbin writes; move it away to write it again",
                path.display()
            )));
        }
        Err(_) => {}
    }
    let io = |e: std::io::Error| Error::Usage(format!("cannot write {}: {e}", path.display()));
    fs::create_dir_all(path.parent().expect("has a parent")).map_err(io)?;
    fs::write(&path, text).map_err(io)?;
    Ok(Some(path))
}

/// The repository's root: the nearest directory with `.git`, else the
/// package directory.
fn repo_root(package_dir: &Path) -> PathBuf {
    package_dir
        .ancestors()
        .find(|d| d.join(".git").exists())
        .unwrap_or(package_dir)
        .to_path_buf()
}

/// The workflow's text. `package`, `krate`: directories relative to the
/// repository root (`""`: the root); `krate` set: with the build jobs.
pub fn render(
    manifest: &Manifest,
    package: &str,
    krate: Option<&str>,
    lockfile: bool,
) -> Result<String, Error> {
    let working_dir = |dir: &str, indent: &str| {
        if dir.is_empty() {
            String::new()
        } else {
            format!("{indent}working-directory: {}\n", json!(dir))
        }
    };
    let mut text = HEAD.to_string();
    if let Some(krate) = krate {
        let mut matrix = String::new();
        for line in matrix_entries(manifest)? {
            matrix.push_str(&format!("          - {line}\n"));
        }
        text.push_str(
            &BUILD
                .replace("@MATRIX@", &matrix)
                .replace("@CRATE@", &working_dir(krate, "        ")),
        );
    }
    let pkg = working_dir(package, "        ");
    let pkg = if pkg.is_empty() {
        pkg
    } else {
        format!("    defaults:\n      run:\n{pkg}")
    };
    text.push_str(
        &PUBLISH
            .replace(
                "@NEEDS@",
                if krate.is_some() {
                    "    needs: upload\n"
                } else {
                    ""
                },
            )
            .replace("@PKG@", &pkg)
            .replace("@INSTALL@", if lockfile { "npm ci" } else { "npm install" }),
    );
    Ok(text.replace("@VERSION_OF_TAG@", VERSION_OF_TAG))
}

/// The version a release tag names, in shell: `v1.2.3`, `hello-v1.2.3`
/// (cargo-dist's tags for one app of a workspace), `hello@1.2.3` and
/// `1.2.3` all give `1.2.3`.
const VERSION_OF_TAG: &str = "printf '%s' \"$TAG\" | sed -E 's/^([^0-9]*[-_/@])?[vV]?//'";

/// One JSON object per target: the runner, whether cargo-zigbuild builds it,
/// the format, the asset name and the archive paths of the executables,
/// from the section's templates with `{version}` left in.
fn matrix_entries(manifest: &Manifest) -> Result<Vec<String>, Error> {
    let section = &manifest.postbin;
    let mut out = Vec::new();
    for (target, entry) in &section.targets {
        let format = entry
            .format
            .as_deref()
            .or(section.format.as_deref())
            .unwrap_or("tar.gz");
        let render = |t: &str, name: &str, field: &str| {
            let vars = crate::plan::template_vars("{version}", target, format, name);
            template::render(t, &vars).map_err(|e| Error::Usage(format!("{field}: {e}")))
        };
        let url = entry
            .url
            .as_deref()
            .or(section.url.as_deref())
            .ok_or_else(|| Error::Usage(format!("postbin.targets.{target}: no `url`")))?;
        let url = render(url, unscoped(&manifest.name), "postbin.url")?;
        let asset = url
            .split(['?', '#'])
            .next()
            .and_then(|u| u.rsplit('/').next())
            .unwrap_or_default()
            .to_string();
        let templates = entry.bin.as_ref().or(section.bin.as_ref());
        let mut bins = Vec::new();
        for command in manifest.bin.keys() {
            let t = templates
                .and_then(|m| m.get(command))
                .map_or("{name}{exe}", String::as_str);
            bins.push(render(t, command, "postbin.bin")?);
        }
        let (os_runner, zig) = if target.contains("-apple-darwin") {
            ("macos-latest", target.starts_with("universal"))
        } else if target.contains("-windows-msvc") {
            ("windows-latest", false)
        } else {
            ("ubuntu-latest", true)
        };
        out.push(format!(
            "{{\"target\": {}, \"os\": \"{os_runner}\", \"zig\": {zig}, \"format\": {}, \"asset\": {}, \"bins\": {}}}",
            json!(target),
            json!(format),
            json!(asset),
            json!(bins.join(" ")),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    use super::VERSION_OF_TAG;

    // The workflow's shell runs on the release runners; `sh` is the test's.
    #[cfg(unix)]
    #[test]
    fn the_version_is_read_from_every_tag_shape() {
        for (tag, version) in [
            ("v1.2.3", "1.2.3"),
            ("app-v1.2.3", "1.2.3"),
            ("my-app-v0.4.0-rc.1", "0.4.0-rc.1"),
            ("hello@2.0.0", "2.0.0"),
            ("1.0", "1.0"),
        ] {
            let out = std::process::Command::new("sh")
                .args(["-c", VERSION_OF_TAG])
                .env("TAG", tag)
                .output()
                .expect("sh runs");
            assert_eq!(String::from_utf8_lossy(&out.stdout), version, "{tag}");
        }
    }
}
