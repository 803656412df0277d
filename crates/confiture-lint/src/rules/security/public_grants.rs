//! `public-grants`: privileges granted to PUBLIC on tables, views, sequences, schemas and
//! SECURITY DEFINER functions.

use confiture_core::ident::{quote_ident, quote_qualified};
use confiture_core::schema::Grant;

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::util::{function_keyword, function_signature, table_key, tables};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "public-grants",
    category: Category::Security,
    severity: Severity::Warning,
    summary: "Privileges granted to PUBLIC (every role)",
    explanation: "`PUBLIC` is every role of the cluster, including roles created later and \
the login roles of other applications sharing it. A privilege granted to PUBLIC bypasses the \
role design: least privilege means granting to the roles that need it.\n\nThe rule reports \
tables, views, materialized views, sequences and schemas with any privilege granted to \
PUBLIC. PostgreSQL's own defaults are left alone: USAGE on the `public` schema (its CREATE \
privilege, granted to PUBLIC before PostgreSQL 15, is reported) and EXECUTE on ordinary \
functions. A SECURITY DEFINER function still executable by PUBLIC (the default unless \
revoked) is reported: anyone can run it with its owner's privileges.\n\nFix: `REVOKE ALL ON \
TABLE s.t FROM PUBLIC;` (`ON SEQUENCE`, `ON SCHEMA`, `ON FUNCTION s.f(args)`; `--fix` writes \
it into a migration), then grant what is needed to specific roles. For functions, also set \
`ALTER DEFAULT PRIVILEGES … REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC` so new ones start closed.",
    bundle: None,
    check: Check::Schema(check),
};

fn public(grants: &[Grant]) -> Vec<String> {
    grants
        .iter()
        .filter(|g| g.grantee.eq_ignore_ascii_case("PUBLIC"))
        .flat_map(|g| g.privileges.iter().cloned())
        .collect()
}

struct Report<'a> {
    kind: &'a str,
    loc_kind: &'a str,
    key: &'a str,
    privileges: Vec<String>,
    revoke: String,
}

fn push(s: &SchemaInput, out: &mut Vec<Finding>, r: Report) {
    if r.privileges.is_empty() {
        return;
    }
    out.push(
        Finding::new(
            &RULE,
            format!(
                "{} {} grants {} to PUBLIC (every role)",
                r.kind,
                r.key,
                r.privileges.join(", ")
            ),
        )
        .object(r.key)
        .at(s.locations.get(r.loc_kind, r.key))
        .fix(format!(
            "revoke from PUBLIC and grant to the roles that need it: {}",
            r.revoke
        ))
        .fix_sql(r.revoke),
    );
}

fn check(s: &SchemaInput, _ctx: &Context, out: &mut Vec<Finding>) {
    for (key, n) in &s.model.schemas {
        let mut privileges = public(&n.grants);
        // USAGE on `public` is PostgreSQL's default; CREATE there is the pre-15 hole.
        let revoke = if n.name == "public" {
            privileges.retain(|p| p != "USAGE");
            format!(
                "REVOKE CREATE ON SCHEMA {} FROM PUBLIC;",
                quote_ident(&n.name)
            )
        } else {
            format!("REVOKE ALL ON SCHEMA {} FROM PUBLIC;", quote_ident(&n.name))
        };
        push(
            s,
            out,
            Report {
                kind: "schema",
                loc_kind: "schema",
                key,
                privileges,
                revoke,
            },
        );
    }
    for t in tables(s) {
        let key = table_key(t);
        push(
            s,
            out,
            Report {
                kind: "table",
                loc_kind: "table",
                key: &key,
                privileges: public(&t.grants),
                revoke: format!("REVOKE ALL ON TABLE {} FROM PUBLIC;", quote_qualified(&key)),
            },
        );
    }
    for (key, v) in &s.model.views {
        let qualified = format!("{}.{}", quote_ident(&v.schema), quote_ident(&v.name));
        push(
            s,
            out,
            Report {
                kind: if v.materialized {
                    "materialized view"
                } else {
                    "view"
                },
                loc_kind: "view",
                key,
                privileges: public(&v.grants),
                revoke: format!("REVOKE ALL ON TABLE {qualified} FROM PUBLIC;"),
            },
        );
    }
    for (key, q) in &s.model.sequences {
        let qualified = format!("{}.{}", quote_ident(&q.schema), quote_ident(&q.name));
        push(
            s,
            out,
            Report {
                kind: "sequence",
                loc_kind: "sequence",
                key,
                privileges: public(&q.grants),
                revoke: format!("REVOKE ALL ON SEQUENCE {qualified} FROM PUBLIC;"),
            },
        );
    }
    for (key, f) in &s.model.functions {
        if !f.security_definer {
            continue;
        }
        let kind = function_keyword(f);
        let mut privileges = public(&f.grants);
        privileges.retain(|p| p == "EXECUTE");
        push(
            s,
            out,
            Report {
                kind: if kind == "PROCEDURE" {
                    "SECURITY DEFINER procedure"
                } else {
                    "SECURITY DEFINER function"
                },
                loc_kind: "function",
                key,
                privileges,
                revoke: format!(
                    "REVOKE ALL ON {kind} {} FROM PUBLIC;",
                    function_signature(f)
                ),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::security::fixtures::{function, grant, run, schema, table};
    use confiture_core::schema::{Namespace, Sequence, View};

    #[test]
    fn fires_on_public_privileges() {
        let mut t = table("app.orders", &[("id", "bigint")]);
        t.grants = vec![grant("PUBLIC", &["SELECT"]), grant("reader", &["SELECT"])];
        let mut m = schema(vec![t]);
        m.schemas.insert(
            "public".into(),
            Namespace {
                name: "public".into(),
                owner: "pg_database_owner".into(),
                comment: None,
                grants: vec![grant("PUBLIC", &["CREATE", "USAGE"])],
            },
        );
        m.schemas.insert(
            "app".into(),
            Namespace {
                name: "app".into(),
                owner: "app".into(),
                comment: None,
                grants: vec![grant("PUBLIC", &["USAGE"])],
            },
        );
        m.views.insert(
            "app.v".into(),
            View {
                schema: "app".into(),
                name: "v".into(),
                grants: vec![grant("PUBLIC", &["SELECT"])],
                ..View::default()
            },
        );
        m.sequences.insert(
            "app.s".into(),
            Sequence {
                schema: "app".into(),
                name: "s".into(),
                grants: vec![grant("PUBLIC", &["USAGE"])],
                ..Sequence::default()
            },
        );
        let mut f = function("app", "elevate", "uid integer");
        f.security_definer = true;
        m.functions.insert("app.elevate(uid integer)".into(), f);
        let found = run(&RULE, &m);
        let fixes: Vec<_> = found.iter().filter_map(|f| f.fix_sql.as_deref()).collect();
        assert_eq!(
            fixes,
            [
                "REVOKE ALL ON SCHEMA \"app\" FROM PUBLIC;",
                "REVOKE CREATE ON SCHEMA \"public\" FROM PUBLIC;",
                "REVOKE ALL ON TABLE \"app\".\"orders\" FROM PUBLIC;",
                "REVOKE ALL ON TABLE \"app\".\"v\" FROM PUBLIC;",
                "REVOKE ALL ON SEQUENCE \"app\".\"s\" FROM PUBLIC;",
                "REVOKE ALL ON FUNCTION \"app\".\"elevate\"(uid integer) FROM PUBLIC;",
            ]
        );
        assert!(found[1].message.contains("CREATE") && !found[1].message.contains("USAGE"));
    }

    #[test]
    fn silent_on_defaults_and_role_grants() {
        let mut t = table("app.orders", &[("id", "bigint")]);
        t.grants = vec![grant("reader", &["SELECT"])];
        let mut m = schema(vec![t]);
        m.schemas.insert(
            "public".into(),
            Namespace {
                name: "public".into(),
                owner: "pg_database_owner".into(),
                comment: None,
                grants: vec![grant("PUBLIC", &["USAGE"])],
            },
        );
        // An ordinary function keeps PostgreSQL's default EXECUTE for PUBLIC.
        m.functions
            .insert("app.f()".into(), function("app", "f", ""));
        // A SECURITY DEFINER function whose EXECUTE was revoked from PUBLIC.
        let mut d = function("app", "d", "");
        d.security_definer = true;
        d.grants = vec![grant("admin", &["EXECUTE"])];
        m.functions.insert("app.d()".into(), d);
        assert!(run(&RULE, &m).is_empty());
    }
}
