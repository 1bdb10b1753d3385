//! Plural and possessive forms of a plain term (Westlaw's behaviour), computed once here so
//! that every backend and the exact checker expand a term identically.
//!
//! Rule (SPEC.md, "Plain term"): an unquoted word without digits and of two or more characters
//! matches itself, `word+s` (regular plural, and the possessive: the tokenizer turns `party's`
//! into `partys`), and the spelling-rule plural: `-y` after a consonant → `-ies`; `-s -x -z -ch
//! -sh -o` → `+es`; `-is` → `-es`; `-f`/`-fe` → `-ves`; `-man` → `-men`; plus a short table of
//! irregular plurals (and their possessives). Words with digits and single characters match
//! only themselves. Typing a plural does not find the singular.

/// Irregular singular → plural forms used in opinions.
const IRREGULAR: &[(&str, &str)] = &[
    ("child", "children"),
    ("person", "people"),
    ("foot", "feet"),
    ("tooth", "teeth"),
    ("mouse", "mice"),
    ("criterion", "criteria"),
    ("phenomenon", "phenomena"),
    ("datum", "data"),
    ("medium", "media"),
    ("memorandum", "memoranda"),
    ("appendix", "appendices"),
    ("index", "indices"),
    ("alumnus", "alumni"),
    ("corpus", "corpora"),
    ("genus", "genera"),
    ("ox", "oxen"),
];

/// Every indexed form a plain (unquoted, unexpanded) term matches, the term itself first.
/// At most [`crate::MAX_FORMS`] forms.
pub fn forms(word: &str) -> Vec<String> {
    let mut out = vec![word.to_string()];
    let n = word.chars().count();
    if n < 2 || word.chars().any(|c| c.is_numeric()) {
        return out;
    }
    let mut add = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    add(format!("{word}s"));
    let ends = |suffix: &str| word.ends_with(suffix);
    let stem = |k: usize| -> &str {
        // `k` trailing ASCII letters are removed; every suffix tested below is ASCII.
        &word[..word.len() - k]
    };
    if ends("y") && !word[..word.len() - 1].ends_with(['a', 'e', 'i', 'o', 'u']) {
        add(format!("{}ies", stem(1)));
    }
    if ends("is") && n > 3 {
        add(format!("{}es", stem(2)));
    } else if ends("s") || ends("x") || ends("z") || ends("ch") || ends("sh") || ends("o") {
        add(format!("{word}es"));
    }
    if ends("fe") {
        add(format!("{}ves", stem(2)));
    } else if ends("f") {
        add(format!("{}ves", stem(1)));
    }
    if ends("man") {
        add(format!("{}men", stem(3)));
    }
    for (singular, plural) in IRREGULAR {
        if word == *singular {
            add((*plural).to_string());
            add(format!("{plural}s"));
        }
    }
    out.truncate(crate::MAX_FORMS);
    out
}

#[cfg(test)]
mod tests {
    use super::forms;

    #[test]
    fn plural_and_possessive_forms() {
        assert_eq!(forms("contract"), ["contract", "contracts"]);
        assert_eq!(forms("party"), ["party", "partys", "parties"]);
        assert_eq!(forms("attorney"), ["attorney", "attorneys"]);
        assert_eq!(forms("witness"), ["witness", "witnesss", "witnesses"]);
        assert_eq!(forms("tax"), ["tax", "taxs", "taxes"]);
        assert_eq!(forms("analysis"), ["analysis", "analysiss", "analyses"]);
        assert_eq!(forms("wife"), ["wife", "wifes", "wives"]);
        assert_eq!(forms("chairman"), ["chairman", "chairmans", "chairmen"]);
        assert_eq!(forms("child"), ["child", "childs", "children", "childrens"]);
        assert_eq!(forms("1983"), ["1983"]);
        assert_eq!(forms("s"), ["s"]);
        assert!(forms("caf\u{e9}").len() == 2);
    }
}
