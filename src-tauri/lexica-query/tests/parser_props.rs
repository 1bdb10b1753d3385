//! Property tests of the parser: no panic on any input, and printing a tree then parsing it
//! gives the same tree.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lexica_query::{Filters, Mode, parse, postgres, sqlite};
use proptest::prelude::*;

/// Query-like text: words, connectors, parentheses, quotes, fields and stray punctuation.
fn query_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[a-zA-Z]{1,8}".prop_map(|s| s),
        1 => "[a-z]{3,6}[!*]".prop_map(|s| s),
        2 => Just("AND".to_string()),
        2 => Just("OR".to_string()),
        1 => Just("&".to_string()),
        1 => Just("%".to_string()),
        1 => Just("BUT NOT".to_string()),
        1 => Just("and not".to_string()),
        1 => (1u32..300).prop_map(|n| format!("/{n}")),
        1 => (1u32..300).prop_map(|n| format!("+{n}")),
        1 => prop_oneof![Just("/s"), Just("/p"), Just("+s"), Just("+p"), Just("w/3"), Just("pre/2"), Just("w/p")].prop_map(str::to_string),
        2 => Just("(".to_string()),
        2 => Just(")".to_string()),
        1 => "\"[a-z ]{0,12}\"?".prop_map(|s| s),
        1 => "\u{201C}[a-z ]{1,10}\u{201D}".prop_map(|s| s),
        1 => prop_oneof![Just("ti("), Just("co("), Just("ci("), Just("name(")].prop_map(str::to_string),
        1 => prop_oneof![Just("da(aft 2010)"), Just("da(2014)"), Just("da(bef 3/15/2012)"), Just("da(bet 2001 and 2003)"), Just("da(")].prop_map(str::to_string),
        1 => "[§$#@^~\\-/+.,;:'’]{1,3}".prop_map(|s| s),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn parser_never_panics_on_arbitrary_text(s in "\\PC{0,200}") {
        let _ = parse(&s, Mode::Boolean);
        let _ = parse(&s, Mode::Statements);
    }

    #[test]
    fn printed_tree_reparses_to_the_same_tree(s in query_text()) {
        if let Ok(q) = parse(&s, Mode::Boolean) {
            let printed = q.to_string();
            let again = parse(&printed, Mode::Boolean);
            prop_assert!(again.is_ok(), "`{}` printed as `{}` fails: {:?}", s, printed, again);
            prop_assert_eq!(again.unwrap(), q.clone(), "`{}` printed as `{}`", s, printed);
            // Compilers accept every tree the parser makes.
            let f = Filters::default();
            let _ = (postgres::compile(&q, &f), sqlite::compile(&q, &f));
        } else if let Err(e) = parse(&s, Mode::Boolean) {
            prop_assert!(e.start <= e.end && e.end <= s.len());
            let _ = e.to_string();
        }
    }
}
