//! One asset per target, from everything a release holds: what metadata
//! says of each asset, else what its name says; the rest is reported with
//! why it is not used.

use super::report::Report;
use crate::error::Error;
use crate::plan::Format;
use crate::release::{Release, names};
use std::collections::BTreeMap;

/// One asset per target: (target, asset index, format), sorted by target.
/// Everything else is listed in the report with the reason.
pub(super) fn choose(
    release: &Release,
    report: &mut Report,
) -> Result<Vec<(String, usize, Format)>, Error> {
    let mut by_target: BTreeMap<String, Vec<(usize, Format)>> = BTreeMap::new();
    report.skipped.extend(release.skipped.iter().cloned());
    for (i, asset) in release.assets.iter().enumerate() {
        let (format, targets) = match names::classify(&asset.name) {
            _ if !asset.targets.is_empty() => (
                asset
                    .format
                    .or_else(|| names::format(&asset.name))
                    .unwrap_or(Format::Raw),
                asset.targets.clone(),
            ),
            names::Kind::Archive(format, targets) => (format, targets),
            names::Kind::Checksums => continue,
            names::Kind::Skip(why) => {
                report.skipped.push((asset.name.clone(), why.to_string()));
                continue;
            }
        };
        for target in targets {
            by_target.entry(target).or_default().push((i, format));
        }
    }
    let mac = |arch: &str| by_target.contains_key(&format!("{arch}-apple-darwin"));
    if mac("x86_64")
        && mac("aarch64")
        && let Some(universal) = by_target.remove("universal2-apple-darwin")
    {
        for (i, _) in universal {
            report.skipped.push((
                release.assets[i].name.clone(),
                "universal macOS build; both Mac targets have their own".into(),
            ));
        }
    }
    if by_target.is_empty() {
        let skipped: Vec<String> = report
            .skipped
            .iter()
            .map(|(a, why)| format!("\n  {a}: {why}"))
            .collect();
        return Err(Error::Release(format!(
            "{} has no asset postbin can install (an archive or executable whose name says its platform, \
             such as hello-x86_64-unknown-linux-musl.tar.gz or hello_linux_amd64.tar.gz){}",
            release.origin,
            skipped.concat()
        )));
    }
    let mut chosen = Vec::new();
    for (target, mut assets) in by_target {
        if assets.len() > 1 {
            one_format(release, &target, &mut assets, report);
        }
        if let [a, b, ..] = assets.as_slice() {
            return Err(Error::Release(format!(
                "two assets of {} are for {target}: {} and {}; postbin takes one per target. \
                 Put the assets to publish in a directory and run `postbin init --from DIR`, or \
                 write `postbin.targets.{target}` by hand (docs/publishing.md)",
                release.origin, release.assets[a.0].name, release.assets[b.0].name
            )));
        }
        chosen.push((target, assets[0].0, assets[0].1));
    }
    Ok(chosen)
}

/// The formats preferred when one archive is published in several
/// (goreleaser v2's `formats: [tar.gz, zip]`): zip on Windows, where it is
/// the native format, else the tarballs by how much smaller they are.
const PREFERENCE_WINDOWS: [Format; 4] = [Format::Zip, Format::TarXz, Format::TarZst, Format::TarGz];
const PREFERENCE: [Format; 4] = [Format::TarXz, Format::TarZst, Format::TarGz, Format::Zip];

/// Keeps one of a target's assets when they are the same archive in
/// several formats (the same name but for the extension); the others are
/// reported as skipped.
fn one_format(
    release: &Release,
    target: &str,
    assets: &mut Vec<(usize, Format)>,
    report: &mut Report,
) {
    let stem = |i: usize| crate::release::dist_manifest::stem(&release.assets[i].name);
    let first = stem(assets[0].0);
    if assets
        .iter()
        .any(|(i, f)| stem(*i) != first || *f == Format::Raw)
    {
        return;
    }
    let order = if crate::platform::is_windows(target) {
        PREFERENCE_WINDOWS
    } else {
        PREFERENCE
    };
    let rank = |f: &Format| order.iter().position(|o| o == f).unwrap_or(order.len());
    assets.sort_by_key(|(_, f)| rank(f));
    let kept = release.assets[assets[0].0].name.clone();
    for (i, _) in assets.drain(1..) {
        report.skipped.push((
            release.assets[i].name.clone(),
            format!("the same archive as {kept}, which postbin prefers for {target}"),
        ));
    }
}
