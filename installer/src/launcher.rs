//! The JS launcher `postbin init` writes for each command (and `postbin
//! check` compares with what is there): it runs the native executable,
//! installing it first when install scripts were skipped.

use crate::link::LAUNCHER_MARKER;

/// The launcher: tiny, with the command and env prefix baked in so a run
/// reads no package.json. Loading `postbin/launcher` can fail (postbin
/// pruned or uninstalled, a PnP setup that hides it, a damaged
/// node_modules); that is one line saying what to do and exit 1, never a
/// Node stack trace. The line names `package` (the tool's npm name).
pub fn launcher_source(command: &str, rel_path: &str, env_prefix: &str, package: &str) -> String {
    let depth = rel_path
        .trim_start_matches("./")
        .split('/')
        .filter(|c| !c.is_empty())
        .count()
        .saturating_sub(1);
    let package_dir = if depth == 0 {
        "__dirname".to_string()
    } else {
        format!(
            "require(\"path\").join(__dirname{})",
            ", \"..\"".repeat(depth)
        )
    };
    let json = |s: &str| serde_json::to_string(s).expect("string");
    let missing = json(&format!(
        "postbin: cannot run {command}: the postbin package it needs cannot be loaded ("
    ));
    let todo = json(&format!(
        "); reinstall {package} (npm install, or delete node_modules and install again), \
         or set {env_prefix}_BINARY_PATH to a {command} executable\n"
    ));
    format!(
        "#!/usr/bin/env node\n\
         // {LAUNCHER_MARKER}: written by `postbin init`; do not edit.\n\
         // Runs the native `{command}`, installing it first if install scripts were skipped.\n\
         let launcher;\n\
         try {{\n  launcher = require(\"postbin/launcher\");\n}} catch (e) {{\n  \
         const why = String((e && e.message) || e).split(\"\\n\")[0];\n  \
         process.stderr.write({missing} + why + {todo});\n  \
         process.exit(1);\n}}\n\
         launcher.run({{\n  packageDir: {package_dir},\n  command: {},\n  envPrefix: {},\n}});\n",
        json(command),
        json(env_prefix),
    )
}
