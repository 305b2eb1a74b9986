//! Embeds the OpenAPI document minified: `docs/openapi.json` stays readable in the repository,
//! the worker serves (and carries in its wasm) the compact form. A document that is not valid
//! JSON fails the build.

use std::{env, fs, path::Path};

fn main() {
    let src = "docs/openapi.json";
    println!("cargo:rerun-if-changed={src}");
    let text = fs::read_to_string(src).expect("read docs/openapi.json");
    let doc: serde_json::Value =
        serde_json::from_str(&text).expect("docs/openapi.json is not valid JSON");
    let out = Path::new(&env::var("OUT_DIR").expect("OUT_DIR")).join("openapi.min.json");
    fs::write(out, serde_json::to_string(&doc).expect("serialize"))
        .expect("write openapi.min.json");
}
