//! Query strings and `application/x-www-form-urlencoded` bodies into a multi-map.
//!
//! STUB: interface fixed, implementation to be written.

/// Keys and values in arrival order; a key may repeat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MultiMap {
    entries: Vec<(String, String)>,
}

impl MultiMap {
    pub fn new() -> Self {
        MultiMap::default()
    }
    pub fn push(&mut self, key: String, value: String) {
        self.entries.push((key, value));
    }
    /// The first value for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    /// Every value for `key`, in arrival order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    /// All pairs in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// Keys in order of first appearance, each with all its values: the shape of the
    /// `/echo` `query` and `form` objects.
    pub fn grouped(&self) -> Vec<(&str, Vec<&str>)> {
        let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
        for (k, v) in self.iter() {
            match out.iter_mut().find(|(key, _)| *key == k) {
                Some((_, vs)) => vs.push(v),
                None => out.push((k, vec![v])),
            }
        }
        out
    }
}

/// Parse `a=1&b=2&a=3` (a query without its `?`, or a urlencoded body).
pub fn parse_urlencoded(input: &[u8]) -> MultiMap {
    let _ = input;
    todo!()
}
