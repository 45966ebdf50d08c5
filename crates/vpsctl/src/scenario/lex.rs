//! Splitting a line into tokens: blanks separate, `"..."` quotes, `#` at the
//! start of a token comments out the rest of the line.

/// One token of a line.
#[derive(Clone, Eq, PartialEq, Debug)]
pub(crate) struct Token {
    /// The text, without quotes.
    pub text: String,
    /// The 1-based column (in characters) where the token starts.
    pub column: usize,
    /// Whether it was written in quotes (then it is never a keyword).
    pub quoted: bool,
}

/// A line split into tokens.
#[derive(Clone, Eq, PartialEq, Debug)]
pub(crate) struct Line {
    /// The tokens, comment excluded.
    pub tokens: Vec<Token>,
}

/// An unterminated quote, at this 1-based column.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) struct UnterminatedQuote(pub usize);

/// Splits one line.
pub(crate) fn split(line: &str) -> Result<Line, UnterminatedQuote> {
    let mut tokens = Vec::new();
    let mut chars = line.char_indices().enumerate().peekable();
    while let Some(&(column0, (_, ch))) = chars.peek() {
        if ch.is_whitespace() {
            chars.next();
            continue;
        }
        if ch == '#' {
            break;
        }
        let column = column0 + 1;
        let mut text = String::new();
        if ch == '"' {
            chars.next();
            let mut closed = false;
            for (_, (_, c)) in chars.by_ref() {
                if c == '"' {
                    closed = true;
                    break;
                }
                text.push(c);
            }
            if !closed {
                return Err(UnterminatedQuote(column));
            }
            tokens.push(Token {
                text,
                column,
                quoted: true,
            });
            continue;
        }
        while let Some(&(_, (_, c))) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            text.push(c);
            chars.next();
        }
        tokens.push(Token {
            text,
            column,
            quoted: false,
        });
    }
    Ok(Line { tokens })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str) -> Vec<String> {
        split(line)
            .unwrap()
            .tokens
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn blanks_separate_and_comments_end_the_line() {
        assert_eq!(
            texts("  fork web\tin 101 # note"),
            ["fork", "web", "in", "101"]
        );
        assert_eq!(texts("# only a comment"), Vec::<String>::new());
        assert_eq!(texts("a#b c"), ["a#b", "c"]);
    }

    #[test]
    fn quotes_keep_blanks_and_hashes() {
        let line = split(r#"checkpoint 101 to "my image #1.img""#).unwrap();
        assert_eq!(line.tokens[3].text, "my image #1.img");
        assert!(line.tokens[3].quoted);
        assert_eq!(line.tokens[3].column, 19);
        assert_eq!(split(r#"restore "open"#), Err(UnterminatedQuote(9)));
    }
}
