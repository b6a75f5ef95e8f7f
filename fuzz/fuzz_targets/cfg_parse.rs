#![no_main]
//! Config reader and formatter: any bytes must parse to a document (never a panic or a hang),
//! print back to the same bytes, and normalise without panicking.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let vars = |name: &str| (name == "X").then(|| "a b".to_owned());
    if let Ok(doc) = haproxy_cfg::parse_bytes_with("fuzz.cfg", data, &vars) {
        assert_eq!(haproxy_cfg::fmt::print_bytes(&doc), data);
        let _ = haproxy_cfg::fmt::normalise(&doc);
        for line in doc.lines() {
            if let Some(e) = &line.error {
                let _ = e.render();
            }
        }
    }
});
