//! Splitting one CLI command into words, as HAProxy's `cli_parse_request` does.

/// HAProxy keeps at most this many words per command (`MAX_CLI_ARGS`); later words are ignored.
pub const MAX_ARGS: usize = 64;

/// The payload marker: a last word `<<` starts a payload ending with an empty line.
pub const PAYLOAD_PATTERN: &str = "<<";

/// Splits a command on spaces and tabs; a backslash keeps the next character literally
/// (`\;`, `\ `, `\\`). A word that is exactly `<<` and is the last one is not returned.
#[must_use]
pub fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        if chars.peek().is_none() || words.len() == MAX_ARGS {
            break;
        }
        let mut w = String::new();
        while let Some(c) = chars.next_if(|c| *c != ' ' && *c != '\t') {
            if c == '\\' {
                if let Some(n) = chars.next() {
                    w.push(n);
                }
            } else {
                w.push(c);
            }
        }
        words.push(w);
    }
    if words.last().is_some_and(|w| w == PAYLOAD_PATTERN)
        && line.trim_end().ends_with(PAYLOAD_PATTERN)
    {
        words.pop();
    }
    words
}

/// Prints words as one command line that [`split_words`] (and the session's `;` splitting)
/// reads back unchanged: spaces, tabs, `;`, `<` and backslashes are escaped with a backslash.
/// Line feeds cannot be carried by the CLI and are dropped.
#[must_use]
pub fn join_words(words: &[String]) -> String {
    let mut out = String::new();
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        for c in w.chars().filter(|c| *c != '\n' && *c != '\r') {
            if matches!(c, ' ' | '\t' | ';' | '<' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_blanks() {
        assert_eq!(
            split_words("  show  env\tA\\ B\\\\ "),
            ["show", "env", "A B\\"]
        );
        assert_eq!(split_words("add map m <<"), ["add", "map", "m"]);
        assert!(split_words("   ").is_empty());
    }

    #[test]
    fn word_count_is_bounded() {
        let line = "a ".repeat(MAX_ARGS + 10);
        assert_eq!(split_words(&line).len(), MAX_ARGS);
    }
}
