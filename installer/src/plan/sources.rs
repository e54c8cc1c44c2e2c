//! Where the bytes of an asset may come from, in the order they are tried:
//! the configured mirrors (by path or by content), else the origin, and the
//! wrapper package on the consumer's npm registry.

use super::*;

/// Renders the asset's URL (the target's template, else the section's) and
/// the sources to fetch it from. Errors name the template's field.
pub(super) fn locate(
    manifest: &Manifest,
    entry: &TargetEntry,
    settings: &Settings,
    target: &str,
    format: Format,
    vars: &Vars<'_>,
) -> Result<Asset, Error> {
    let tfield = target_field(target);
    let (url_template, url_field) = match (&entry.url, &manifest.postbin.url) {
        (Some(u), _) => (u, format!("{tfield}.url")),
        (None, Some(u)) => (u, "postbin.url".to_string()),
        (None, None) => {
            return Err(Error::Invalid {
                field: "postbin.url".into(),
                problem: format!(
                    "is missing (and `{tfield}.url` too): give the release asset's URL template"
                ),
            });
        }
    };
    let origin_url = render(url_template, vars, &url_field)?;
    let invalid = |e: crate::url::ParseError| Error::Invalid {
        field: url_field.clone(),
        problem: e.to_string(),
    };
    let parsed = Url::parse(&origin_url).map_err(invalid)?;
    publisher_scheme(&parsed, &url_field)?;
    let content = Content {
        sha256: entry.sha256.as_deref().and_then(Sha256Hash::parse),
        name: unscoped(&manifest.name),
    };
    let sources =
        sources_for_content(&origin_url, settings, &content).map_err(|e| Error::Invalid {
            field: url_field.clone(),
            problem: e.to_string(),
        })?;
    Ok(Asset {
        target: target.to_string(),
        format,
        asset_name: parsed.file_name().to_string(),
        origin_url,
        sources,
    })
}

/// The wrapper package on the consumer's npm registry, when the publisher
/// packed one (`targets.<t>.integrity`): after the release URL and mirrors,
/// or first with `POSTBIN_SOURCE=npm`.
pub(super) fn add_registry_source(
    sources: &mut Vec<Source>,
    manifest: &Manifest,
    entry: &TargetEntry,
    settings: &Settings,
    target: &str,
    asset_name: &str,
) -> Result<(), Error> {
    let Some(text) = &entry.integrity else {
        return Ok(());
    };
    let field = format!("{}.integrity", target_field(target));
    let integrity = Sha512Integrity::parse(text).ok_or_else(|| Error::Invalid {
        field: field.clone(),
        problem: "must be `sha512-<base64>`, as `postbin pack-targets` writes it".into(),
    })?;
    let registry = &settings.registry;
    let package = wrapper::package_name(&manifest.name, target);
    let url =
        wrapper::tarball_url(&registry.url.value, &package, &manifest.version).map_err(|e| {
            Error::Invalid {
                field,
                problem: e.to_string(),
            }
        })?;
    let source = Source {
        url,
        explicit: true,
        wrapped: Some(Box::new(Wrapped {
            integrity,
            member: wrapper::member_path(asset_name),
            registry: registry.url.value.clone(),
            credential: registry.credential.clone(),
            npm_cache_file: settings
                .npm_cache
                .as_deref()
                .map(|c| integrity.cacache_path(c)),
        })),
    };
    if settings.registry_first.value {
        sources.insert(0, source);
    } else {
        sources.push(source);
    }
    Ok(())
}

/// The URLs to try for an asset: each configured mirror in order, else the
/// origin. With mirrors set the origin is not tried (networks that reach only
/// a mirror would wait on it); list it as the last mirror to fall back to it.
/// (A file with no pinned hash, such as a checksums file: `{sha256}`
/// mirrors are skipped.)
pub fn sources_for(url: &str, settings: &Settings) -> Result<Vec<Source>, MirrorError> {
    let content = Content {
        sha256: None,
        name: "",
    };
    sources_for_content(url, settings, &content)
}

/// What a content-addressed mirror may name: `{sha256}` (the pinned hash),
/// `{file}` (the asset's file name), `{name}` (the unscoped package name).
pub struct Content<'a> {
    pub sha256: Option<Sha256Hash>,
    pub name: &'a str,
}

#[derive(Debug)]
pub enum MirrorError {
    Parse(crate::url::ParseError),
    /// No mirror can serve this file (each wants a `{sha256}` it lacks).
    Unusable(String),
}

impl fmt::Display for MirrorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MirrorError::Parse(e) => e.fmt(f),
            MirrorError::Unusable(problem) => f.write_str(problem),
        }
    }
}

/// `sources_for`, where a mirror may also be a template over the content
/// (`https://store.corp/blobs/sha256/{sha256}`): a generic blob store then
/// serves any release, whatever its path layout. A `{sha256}` mirror is
/// skipped for a file with no pinned hash (a checksums file, an unpinned
/// target); when that leaves none, the file cannot be fetched.
pub fn sources_for_content(
    url: &str,
    settings: &Settings,
    content: &Content<'_>,
) -> Result<Vec<Source>, MirrorError> {
    let origin = Url::parse(url).map_err(MirrorError::Parse)?;
    let Some(mirrors) = &settings.mirrors else {
        return Ok(vec![Source::direct(origin, false)]);
    };
    let hex = content.sha256.map(|h| h.hex());
    let mut sources = Vec::new();
    for mirror in &mirrors.value {
        let mirrored = if mirror.contains('{') {
            if mirror.contains("{sha256}") && hex.is_none() {
                continue;
            }
            let vars = [
                ("sha256", hex.as_deref().unwrap_or("")),
                ("file", origin.file_name()),
                ("name", content.name),
            ];
            let text = template::render(mirror, &vars).map_err(|e| {
                MirrorError::Unusable(format!(
                    "the mirror {} ({}): {e}",
                    redact(mirror),
                    mirrors.origin
                ))
            })?;
            Url::parse(&text)
        } else {
            origin.with_mirror(mirror)
        };
        sources.push(Source::direct(mirrored.map_err(MirrorError::Parse)?, true));
    }
    if sources.is_empty() {
        return Err(MirrorError::Unusable(format!(
            "cannot be fetched: every mirror ({}) names files by {{sha256}}, and {} has no \
             pinned sha256; pin it (`postbin pin`), or add a mirror that keeps the release's \
             paths after them",
            mirrors.origin,
            origin.file_name()
        )));
    }
    Ok(sources)
}
