//! Original file names are kept only as metadata, and only in a harmless form.

const MAX_NAME_CHARS: usize = 200;

/// Characters that change how text around them is shown without being seen themselves:
/// bidi overrides and isolates (`U+202E` makes `gpj.exe` read as `exe.jpg`), zero-width and
/// other format characters, line and paragraph separators, tag characters.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'..='\u{1160}'
                | '\u{17B4}'..='\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFFB}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// No path parts, no control, invisible or reserved characters, no reserved Windows names.
pub fn sanitize(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut name: String = last
        .chars()
        .filter(|c| !is_invisible(*c))
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

    #[test]
    fn bidi_overrides_and_invisible_characters_are_stripped() {
        // With a right-to-left override the name would show as "invoiceexe.pdf".
        assert_eq!(sanitize("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        for c in [
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{200E}',
            '\u{200F}',
            '\u{202A}',
            '\u{202B}',
            '\u{202C}',
            '\u{202D}',
            '\u{202E}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{061C}',
            '\u{FEFF}',
            '\u{2028}',
            '\u{2029}',
            '\u{2060}',
            '\u{00AD}',
            '\u{E0041}',
            '\u{FFF9}',
            '\u{180E}',
        ] {
            assert_eq!(
                sanitize(&format!("a{c}b.pdf")),
                "ab.pdf",
                "U+{:04X}",
                c as u32
            );
        }
        // Only invisible characters: a neutral name, not an empty one.
        assert_eq!(sanitize("\u{202E}\u{2066}"), "file");
        // Visible text of every script stays.
        assert_eq!(
            sanitize("تقرير_报告_Ünïcode 😀.pdf"),
            "تقرير_报告_Ünïcode 😀.pdf"
        );
    }
}
