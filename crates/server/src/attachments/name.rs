//! Original file names are kept only as metadata, and only in a harmless form.

const MAX_NAME_CHARS: usize = 200;

/// No path parts, no control or reserved characters, no reserved Windows names.
pub fn sanitize(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut name: String = last
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| {
            if matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') {
                '_'
            } else {
                c
            }
        })
        .collect();
    name = name
        .trim_matches(|c: char| c == '.' || c.is_whitespace())
        .to_string();
    let stem = name
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let reserved = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.len() == 4
            && stem.as_bytes()[3].is_ascii_digit());
    if reserved {
        name.insert(0, '_');
    }
    if name.chars().count() > MAX_NAME_CHARS {
        // Keep the extension, cut the stem.
        let ext: String = name
            .rsplit_once('.')
            .map(|(_, e)| e.chars().take(16).collect())
            .unwrap_or_default();
        let keep = MAX_NAME_CHARS - ext.len() - 1;
        let stem: String = name.chars().take(keep).collect();
        name = if ext.is_empty() {
            stem
        } else {
            format!("{stem}.{ext}")
        };
    }
    if name.is_empty() {
        "file".to_string()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn names_lose_their_paths_and_tricks() {
        assert_eq!(sanitize("../../etc/passwd.pdf"), "passwd.pdf");
        assert_eq!(sanitize("C:\\Users\\x\\report.docx"), "report.docx");
        assert_eq!(sanitize("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(sanitize("CON.txt"), "_CON.txt");
        assert_eq!(sanitize("lpt1"), "_lpt1");
        assert_eq!(sanitize("..."), "file");
        assert_eq!(sanitize("what?.pdf"), "what_.pdf");
        let long = format!("{}.pdf", "x".repeat(500));
        let s = sanitize(&long);
        assert_eq!(s.chars().count(), 200);
        assert!(s.ends_with(".pdf"));
    }
}
