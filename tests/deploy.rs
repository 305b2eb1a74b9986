//! What ships is what is tested (contract 1.2, "One deployment"): `wrangler deploy --dry-run`
//! bundles the same entry and the same wasm as the end-to-end tests load (build/worker), and
//! the Worker the tests serve (tests/support/keygate.mjs) is wrangler.toml's: the same bindings,
//! variables, assets and classes, nothing bound from another script, the migrations in order.
//!
//! `npm test` rehearses the deploy before the tests (scripts/test.sh) and names the folder in
//! `KEYGATE_DRY_RUN`; alone (`cargo test --test deploy`) this test runs the rehearsal itself.

mod support;

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::root;

fn node() -> PathBuf {
    let node = root().join("node_modules/.bin/node");
    if node.exists() {
        node
    } else {
        PathBuf::from("node")
    }
}

/// wrangler.toml as wrangler reads it, and the Worker the tests serve (tests/support/config.mjs).
fn configs() -> (Value, Value) {
    let out = Command::new(node())
        .arg(root().join("tests/support/config.mjs"))
        .current_dir(root())
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("config JSON");
    (v["wrangler"].clone(), v["miniflare"].clone())
}

fn sha256(path: &Path) -> String {
    hex::encode(Sha256::digest(
        fs::read(path).unwrap_or_else(|e| panic!("{path:?}: {e}")),
    ))
}

/// The names a module exports, from its `export` statements (the entry and the bundle are
/// both plain ES modules: `export const X`, `export class X`, `export default`,
/// `export { a as b, … }` over one line or several).
fn exports(source: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in source.lines().map(str::trim) {
        let declared = ["export const ", "export class "]
            .iter()
            .find_map(|p| line.strip_prefix(p));
        if let Some(rest) = declared {
            names.insert(rest.split([' ', '=', '{']).next().unwrap().to_string());
        } else if line.starts_with("export default") {
            names.insert("default".into());
        }
    }
    let mut rest = source;
    while let Some(at) = rest.find("export {") {
        let list = &rest[at + "export {".len()..];
        let end = list.find('}').expect("a closed export list");
        for item in list[..end].split(',') {
            let item = item.trim();
            if !item.is_empty() {
                names.insert(item.rsplit(" as ").next().unwrap().trim().to_string());
            }
        }
        rest = &list[end..];
    }
    names
}

/// The folder of `wrangler deploy --dry-run --outdir` (run here when `npm test` has not).
fn dry_run() -> PathBuf {
    if let Ok(dir) = std::env::var("KEYGATE_DRY_RUN") {
        return PathBuf::from(dir);
    }
    let dir = std::env::temp_dir().join(format!("keygate-dry-run-{}", std::process::id()));
    let status = Command::new("sh")
        .arg(root().join("scripts/dry-run.sh"))
        .arg(&dir)
        .current_dir(root())
        .status()
        .expect("run scripts/dry-run.sh");
    assert!(status.success(), "wrangler deploy --dry-run failed");
    dir
}

#[test]
fn the_dry_run_bundles_the_wasm_and_the_entry_the_tests_load() {
    let dir = dry_run();
    let files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("dry-run folder")
        .map(|e| e.unwrap().path())
        .collect();
    let wasm: Vec<&PathBuf> = files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    assert_eq!(wasm.len(), 1, "one wasm in the bundle: {files:?}");
    assert_eq!(
        sha256(wasm[0]),
        sha256(&root().join("build/worker/index_bg.wasm")),
        "the deployed wasm is not the tested one"
    );
    // The bundle's main module: wrangler's `main` (build/worker/entry.mjs, a copy of
    // src/entry/worker.mjs) with index.js bundled in; it exports what the entry exports.
    let entry = fs::read_to_string(root().join("build/worker/entry.mjs")).unwrap();
    assert_eq!(
        entry,
        fs::read_to_string(root().join("src/entry/worker.mjs")).unwrap(),
        "build/worker/entry.mjs is stale: run scripts/build.sh"
    );
    // The entrypoint a product's Worker binds (`Verifier`), from its own module beside the entry.
    assert_eq!(
        fs::read_to_string(root().join("build/worker/verifier.mjs")).unwrap(),
        fs::read_to_string(root().join("src/entry/verifier.mjs")).unwrap(),
        "build/worker/verifier.mjs is stale: run scripts/build.sh"
    );
    let want: BTreeSet<String> = [
        "default",
        "KeyObject",
        "TeamObject",
        "EventsObject",
        "Verifier",
    ]
    .map(String::from)
    .into();
    assert_eq!(exports(&entry), want);
    let bundle = files
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "js" || e == "mjs"))
        .unwrap_or_else(|| panic!("no main module in {files:?}"));
    assert_eq!(exports(&fs::read_to_string(bundle).unwrap()), want);
}

#[test]
fn the_tests_serve_the_worker_wrangler_toml_deploys() {
    let (w, m) = configs();
    assert_eq!(w["name"], m["name"]);
    assert_eq!(w["compatibility_date"], m["compatibilityDate"]);
    // The same main module (keygate.mjs lists it first), wasm and glue beside it.
    assert_eq!(w["main"], m["modules"][0]["path"]);
    assert_eq!(
        Path::new(w["main"].as_str().unwrap()),
        root().join("build/worker/entry.mjs")
    );
    // Every variable as deployed (the secrets are the tests' own; wrangler.toml has none).
    for (k, v) in w["vars"].as_object().unwrap() {
        assert_eq!(&m["bindings"][k], v, "variable {k}");
    }
    for secret in ["ADMIN_TOKEN", "PASSWORD_PEPPER"] {
        assert!(w["vars"].get(secret).is_none(), "{secret} is a secret");
    }
    // KV: the same binding; no id (wrangler provisions the namespace on the first deploy).
    let kv = w["kv_namespaces"].as_array().unwrap();
    assert_eq!(kv.len(), 1);
    assert_eq!(kv[0]["binding"], "KEY_INDEX");
    assert!(m["kvNamespaces"].get("KEY_INDEX").is_some());
    // Durable Objects: the same bindings and classes, every one this Worker's own.
    let dos = w["durable_objects"].as_array().unwrap();
    assert_eq!(dos.len(), 3);
    for b in dos {
        assert!(b.get("script_name").is_none(), "binds another script: {b}");
        let name = b["name"].as_str().unwrap();
        assert_eq!(m["durableObjects"][name]["className"], b["class_name"]);
        assert_eq!(m["durableObjects"][name]["useSQLite"], true);
        assert!(m["durableObjects"][name].get("scriptName").is_none());
    }
    assert_eq!(m["durableObjects"].as_object().unwrap().len(), 3);
    assert_eq!(w["services"], serde_json::json!([]), "no service bindings");
    // The migrations: in order, each class once, SQLite-backed, and only these.
    let tags: Vec<&str> = w["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["tag"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["v1", "v2", "v3"]);
    let mut classes: Vec<&str> = w["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["new_sqlite_classes"].as_array().unwrap())
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(classes, ["KeyObject", "TeamObject", "EventsObject"]);
    classes.sort();
    let mut bound: Vec<&str> = dos
        .iter()
        .map(|b| b["class_name"].as_str().unwrap())
        .collect();
    bound.sort();
    assert_eq!(classes, bound);
    // The assets: the same folder, binding and routes the worker answers first.
    let a = &m["assets"];
    assert_eq!(
        root().join(w["assets"]["directory"].as_str().unwrap()),
        Path::new(a["directory"].as_str().unwrap())
    );
    assert_eq!(w["assets"]["binding"], a["binding"]);
    assert_eq!(
        w["assets"]["run_worker_first"],
        a["routerConfig"]["static_routing"]["user_worker"]
    );
}
