//! `{var}` templates (URLs, archive paths): escaped text renders to itself,
//! a template without braces is unchanged, values are inserted verbatim and
//! never re-read as templates, and an unknown variable names a `{...}`
//! written in the template.
#![no_main]
use libfuzzer_sys::fuzz_target;
use postbin::template::render;

const NAMES: [&str; 7] = ["version", "target", "format", "exe", "name", "os", "arch"];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // `template \0 value \0 value ...`: the values of the seven variables.
    let mut parts = text.split('\0');
    let template = parts.next().unwrap_or("");
    let values: Vec<&str> = parts
        .chain(std::iter::repeat(""))
        .take(NAMES.len())
        .collect();
    let vars: Vec<(&'static str, &str)> =
        NAMES.iter().copied().zip(values.iter().copied()).collect();

    match render(template, &vars) {
        Ok(out) => {
            if !template.contains(['{', '}']) {
                assert_eq!(out, template);
            }
        }
        Err(e) => {
            assert!(
                template.contains(&format!("{{{}}}", e.name)),
                "unknown variable {:?} is not written in {template:?}",
                e.name
            );
            assert!(!NAMES.contains(&e.name.as_str()));
            let _ = e.to_string();
        }
    }
    // Any text, escaped, renders to itself.
    let escaped = template.replace('{', "{{").replace('}', "}}");
    assert_eq!(render(&escaped, &vars).as_deref(), Ok(template));
    // Each variable renders to its value exactly, braces and all.
    for (name, value) in &vars {
        let one = format!("a{{{name}}}b");
        assert_eq!(render(&one, &vars).unwrap(), format!("a{value}b"));
    }
});
