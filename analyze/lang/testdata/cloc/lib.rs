//! Crate documentation.

/* Rust block comments /* nest */ so this line is still a comment,
   and so is this one. */

use std::collections::HashMap;

/// A documented struct.
pub struct Store<'a> {
    name: &'a str,
    items: HashMap<String, u32>,
}

impl<'a> Store<'a> {
    pub fn new(name: &'a str) -> Self {
        Store { name, items: HashMap::new() }
    }

    pub fn patterns(&self) -> Vec<&'static str> {
        let raw = r#"a "quoted" /* not a comment */ string"#;
        let glob = "**/*.rs";
        let quote = '"';
        let slash = '/';
        vec![raw, glob, if quote == '"' && slash == '/' { "ok" } else { "no" }]
    }

    // A line comment.
    pub fn get(&self, key: &str) -> Option<u32> {
        match self.items.get(key) {
            Some(v) => Some(*v),
            None => None,
        }
    }

    pub fn multi(&self) -> &'static str {
        "a string over
two lines // with a marker"
    }
}
