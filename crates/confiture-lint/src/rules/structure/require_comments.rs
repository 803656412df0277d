//! `require-comments`: tables and columns without a comment, when the configuration asks for
//! them (`linting.comments_required`).

use confiture_core::ident::quote_literal;

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::util::{sql_ident, sql_qualified, table_key, tables};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "require-comments",
    category: Category::Structure,
    severity: Severity::Warning,
    summary: "Tables and columns have comments (when linting.comments_required asks)",
    explanation: "A comment is the schema's own documentation: `\\d+` in psql, database IDEs, \
generated data catalogs and the next developer all read it.\n\nThe rule runs only when the \
environment asks for it: `linting.comments_required: true` (tables and columns), or \
`comments_required: {tables: true, columns: false}`. Fix with `COMMENT ON TABLE s.t IS '…';` \
and `COMMENT ON COLUMN s.t.c IS '…';` in the schema files.",
    bundle: None,
    check: Check::Schema(check),
};

const TODO: &str = "TODO: describe";

fn blank(comment: &Option<String>) -> bool {
    comment.as_deref().is_none_or(|c| c.trim().is_empty())
}

fn check(s: &SchemaInput, ctx: &Context, out: &mut Vec<Finding>) {
    let required = ctx.config.comments_required;
    if !required.tables && !required.columns {
        return;
    }
    for t in tables(s) {
        let key = table_key(t);
        let name = sql_qualified(&t.schema, &t.name);
        if required.tables && blank(&t.comment) {
            let sql = format!("COMMENT ON TABLE {name} IS {};", quote_literal(TODO));
            out.push(
                Finding::new(&RULE, format!("table {key} has no comment"))
                    .object(&key)
                    .at(s.locations.get("table", &key))
                    .fix(format!("{sql} -- with a real description"))
                    .fix_sql(sql),
            );
        }
        if !required.columns {
            continue;
        }
        for c in t
            .columns
            .iter()
            .filter(|c| !c.inherited && blank(&c.comment))
        {
            let object = format!("{key}.{}", c.name);
            let sql = format!(
                "COMMENT ON COLUMN {name}.{} IS {};",
                sql_ident(&c.name),
                quote_literal(TODO)
            );
            out.push(
                Finding::new(&RULE, format!("column {object} has no comment"))
                    .object(&object)
                    .at(s
                        .locations
                        .get("column", &object)
                        .or_else(|| s.locations.get("table", &key)))
                    .fix(format!("{sql} -- with a real description"))
                    .fix_sql(sql),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::structure::testing::*;
    use confiture_core::config::linting::{CommentsRequired, LintingConfig};

    fn config(tables: bool, columns: bool) -> LintingConfig {
        LintingConfig {
            comments_required: CommentsRequired { tables, columns },
            ..LintingConfig::default()
        }
    }

    #[test]
    fn fires_for_tables_and_columns_without_comments() {
        let mut t = table("app", "users", &["id", "Email"]);
        t.columns[0].comment = Some("The key".into());
        let f = run(&RULE, &schema(vec![t]), &config(true, true));
        assert_eq!(objects(&f), ["app.users", "app.users.Email"]);
        assert!(f.iter().all(|f| f.rule == "require-comments"));
        assert!(f.iter().all(|f| f.severity == Severity::Warning));
        assert_eq!(
            f[0].fix_sql.as_deref(),
            Some("COMMENT ON TABLE app.users IS 'TODO: describe';")
        );
        assert_eq!(
            f[1].fix_sql.as_deref(),
            Some("COMMENT ON COLUMN app.users.\"Email\" IS 'TODO: describe';")
        );
    }

    #[test]
    fn only_what_the_configuration_asks() {
        let t = table("app", "users", &["id"]);
        let model = schema(vec![t]);
        assert!(run(&RULE, &model, &LintingConfig::default()).is_empty());
        assert_eq!(
            objects(&run(&RULE, &model, &config(true, false))),
            ["app.users"]
        );
        assert_eq!(
            objects(&run(&RULE, &model, &config(false, true))),
            ["app.users.id"]
        );
    }

    #[test]
    fn commented_objects_pass() {
        let mut t = table("app", "users", &["id"]);
        t.comment = Some("People".into());
        t.columns[0].comment = Some("Key".into());
        assert!(run(&RULE, &schema(vec![t]), &config(true, true)).is_empty());
    }
}
