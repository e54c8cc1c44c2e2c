//! `{var}` templates in URLs and archive paths. `{{` and `}}` are literal braces.
//! An unknown variable is an error that lists the known ones, so a typo in a
//! publisher's package.json fails at `postbin pin` time, not on a user's machine.

use std::fmt;

#[derive(Debug, PartialEq)]
pub struct UnknownVariable {
    pub name: String,
    pub known: Vec<&'static str>,
}

impl fmt::Display for UnknownVariable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown template variable `{{{}}}` (known: {})",
            self.name,
            self.known
                .iter()
                .map(|k| format!("{{{k}}}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

impl std::error::Error for UnknownVariable {}

pub fn render(template: &str, vars: &[(&'static str, &str)]) -> Result<String, UnknownVariable> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut chars = template.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if matches!(chars.peek(), Some((_, '{'))) => {
                chars.next();
                out.push('{');
            }
            '}' if matches!(chars.peek(), Some((_, '}'))) => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let rest = &template[i + 1..];
                let Some(end) = rest.find('}') else {
                    out.push('{');
                    continue;
                };
                let name = &rest[..end];
                let value = vars.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
                match value {
                    Some(v) => out.push_str(v),
                    None => {
                        return Err(UnknownVariable {
                            name: name.to_string(),
                            known: vars.iter().map(|(k, _)| *k).collect(),
                        });
                    }
                }
                for _ in 0..=end {
                    chars.next();
                }
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_and_escapes() {
        let vars = [("version", "1.2.3"), ("exe", ".exe")];
        assert_eq!(render("v{version}/a{exe}", &vars).unwrap(), "v1.2.3/a.exe");
        assert_eq!(render("{{version}}", &vars).unwrap(), "{version}");
        assert_eq!(render("no vars", &vars).unwrap(), "no vars");
        assert_eq!(render("{exe}{exe}", &vars).unwrap(), ".exe.exe");
    }

    #[test]
    fn unknown_variable_lists_the_known_ones() {
        let err = render("{verison}", &[("version", "1")]).unwrap_err();
        assert_eq!(err.name, "verison");
        assert!(err.to_string().contains("{version}"));
    }
}
