//! Property tests: CSV quoting, command-line splitting, and session framing invariants.

use haproxy_stats::cli::{Cli, Level, MAX_ARGS, join_words, split_words};
use haproxy_stats::csv::push_csv_str;
use proptest::prelude::*;

use crate::model::Model;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any text quoted as HAProxy quotes it reads back unchanged through a real CSV parser.
    #[test]
    fn csv_quoting_round_trips_through_a_csv_parser(fields in prop::collection::vec("[ -~\u{e9}\r\n\"]{0,12}", 1..6)) {
        let mut line = String::new();
        for f in &fields {
            push_csv_str(&mut line, f);
            line.push(',');
        }
        line.push('\n');
        let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(line.as_bytes());
        let rec = rdr.records().next().unwrap().unwrap();
        let got: Vec<&str> = rec.iter().collect();
        // The trailing comma adds one empty field, as in HAProxy's output.
        prop_assert_eq!(got.len(), fields.len() + 1);
        for (g, f) in got.iter().zip(fields.iter()) {
            prop_assert_eq!(*g, f.as_str());
        }
    }

    /// Splitting never panics and never returns more than MAX_ARGS words.
    #[test]
    fn splitting_never_panics(line in "\\PC{0,200}") {
        let words = split_words(&line);
        prop_assert!(words.len() <= MAX_ARGS);
    }

    /// Printing words and splitting them again gives the same words.
    #[test]
    fn split_of_join_is_identity(words in prop::collection::vec("[a-z0-9 ;<\\\\\t/#%-]{1,10}", 1..8)) {
        let line = join_words(&words);
        prop_assert_eq!(split_words(&line), words);
    }

    /// A session's replies do not depend on how the input bytes are cut into reads.
    #[test]
    fn replies_do_not_depend_on_read_boundaries(cuts in prop::collection::vec(0usize..120, 0..6)) {
        let input = b"prompt\nshow cli level;get weight be_rr/s1\nadd map paths.map <<\n/x be_rr\n\nshow version\nquit\n";
        let mut whole_model = Model::new();
        let whole = Cli::new(Level::Admin).feed(input, &mut whole_model);
        let mut cuts = cuts;
        cuts.push(input.len());
        cuts.sort_unstable();
        let mut model = Model::new();
        let mut cli = Cli::new(Level::Admin);
        let mut out = Vec::new();
        let mut at = 0;
        for c in cuts {
            let c = c.min(input.len());
            if c > at {
                out.extend(cli.feed(&input[at..c], &mut model));
                at = c;
            }
        }
        prop_assert_eq!(out, whole);
    }

    /// Arbitrary bytes never panic a session, at any level.
    #[test]
    fn arbitrary_input_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400), lvl in 0u8..3) {
        let level = [Level::User, Level::Operator, Level::Admin][usize::from(lvl)];
        let mut model = Model::new();
        let mut cli = Cli::new(level);
        let _ = cli.feed(&bytes, &mut model);
        let _ = cli.feed(b"\n", &mut model);
    }
}
