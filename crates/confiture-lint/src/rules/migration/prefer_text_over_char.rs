//! `prefer-text-over-char`: `char(n)` / `character(n)` columns.

use crate::finding::Finding;
use crate::inputs::MigrationInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::Severity;

use super::common::{self, ident};

pub static RULE: Rule = Rule {
    id: "prefer-text-over-char",
    category: Category::Migration,
    severity: Severity::Warning,
    summary: "char(n) column: blank-padded, no faster than text",
    explanation:
        "`char(n)` (`character(n)`, and `char` alone, which is `char(1)`) pads values with \
spaces to n characters, ignores trailing spaces when comparing and strips them when converting to \
text: `'a '::char(3) = 'a'` is true, `length('a '::char(3))` is 1, and values that round-trip \
through the application change. It is stored like `text` and is no faster; in PostgreSQL it \
has no benefit.\n\nUse `text` (or `varchar`), with a `CHECK (char_length(c) = n)` constraint when \
a fixed length is part of the data's rules. The one-byte internal type `\"char\"` (quoted) is not \
reported.",
    bundle: None,
    check: Check::Migration(check),
};

fn check(m: &MigrationInput, _ctx: &Context, out: &mut Vec<Finding>) {
    for st in m.statements {
        common::column_types(st, |rel, column, ty, _, _| {
            if common::builtin(ty) != Some("bpchar") {
                return;
            }
            let table = common::table_key(rel);
            let written = common::type_sql(ty);
            let c = ident(column);
            out.push(
                common::finding(
                    &RULE,
                    m,
                    st,
                    format!("{table}.{column}"),
                    format!(
                        "column {table}.{column} is {written}: blank-padded, trailing spaces ignored in comparisons; use text"
                    ),
                )
                .fix(format!(
                    "{c} text  -- with CHECK (char_length({c}) = n) if the length is a rule of the data"
                )),
            );
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::migration::testing::run;

    #[test]
    fn char_columns_are_reported() {
        let f = run(
            &RULE,
            "CREATE TABLE app.countries (\n  id bigint,\n  code char(2)\n);\nALTER TABLE app.t ADD COLUMN flag character;",
        );
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].rule, "prefer-text-over-char");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].object.as_deref(), Some("app.countries.code"));
        assert_eq!(f[0].line, Some(1));
        assert!(f[0].message.contains("char(2)"), "{}", f[0].message);
        assert_eq!(f[1].object.as_deref(), Some("app.t.flag"));
        assert_eq!(f[1].line, Some(5));
        assert_eq!(
            run(&RULE, "ALTER TABLE t ALTER COLUMN c TYPE character(3)").len(),
            1
        );
    }

    #[test]
    fn text_varchar_and_internal_char_are_fine() {
        for sql in [
            "CREATE TABLE t (a text, b varchar(10), c \"char\", d character varying)",
            "ALTER TABLE t ADD COLUMN code text CHECK (char_length(code) = 2)",
        ] {
            assert!(run(&RULE, sql).is_empty(), "{sql}");
        }
    }
}
