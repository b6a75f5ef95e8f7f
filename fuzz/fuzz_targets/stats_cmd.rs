#![no_main]
//! Runtime-API command splitting: any input must split without a panic or a hang, into at most
//! `MAX_ARGS` words, and `join_words` must print words that `split_words` reads back unchanged.
//!
//! The input is cut into commands as the session does (on `\n` and `;`, ignoring escaping: the
//! splitter must cope with any string). `Cli::feed` itself needs a `RuntimeApi`, and the crates
//! offer no public implementation, so the session is not driven here.
use haproxy_stats::cli::{MAX_ARGS, join_words, split_words};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for line in text.split(['\n', ';']).take(64) {
        let words = split_words(line);
        assert!(words.len() <= MAX_ARGS);
        // Line feeds cannot travel on the CLI; `join_words` drops them (and CRs), so compare
        // against the words without them. A last word `<<` is the payload marker and is kept
        // out of the round trip, as is an empty word (the splitter never yields one).
        let clean: Vec<String> = words
            .iter()
            .map(|w| w.chars().filter(|c| *c != '\n' && *c != '\r').collect())
            .collect();
        if clean.iter().all(|w| !w.is_empty()) {
            let joined = join_words(&clean);
            assert_eq!(split_words(&joined), clean, "joined: {joined:?}");
        }
    }
});
