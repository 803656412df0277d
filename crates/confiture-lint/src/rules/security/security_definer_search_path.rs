//! `security-definer-search-path`: a SECURITY DEFINER function without a pinned `search_path`.

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::util::{function_keyword, function_signature};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "security-definer-search-path",
    category: Category::Security,
    severity: Severity::Error,
    summary: "SECURITY DEFINER function without a pinned search_path",
    explanation: "A SECURITY DEFINER function runs with its owner's privileges but resolves \
unqualified names (tables, functions, operators) through the caller's `search_path`. A caller \
who can create objects in any schema on that path (or in `pg_temp`, searched first for tables) \
can shadow a name the function uses and run their own code as the owner: a privilege \
escalation (PostgreSQL documentation, \"Writing SECURITY DEFINER Functions Safely\").\n\n\
The rule reports every SECURITY DEFINER function or procedure whose `SET` clauses (the \
function's `config`) do not set `search_path`. Any value set on the function counts as pinned \
(`''` included); choose it so that only trusted schemas are on it.\n\nFix: pin it, with \
`pg_temp` last so it cannot shadow anything: `ALTER FUNCTION s.f(args) SET search_path = \
pg_catalog, pg_temp;` (then qualify the names the body uses, or add the trusted schemas before \
`pg_temp`). `--fix` writes that statement into a migration.",
    bundle: None,
    check: Check::Schema(check),
};

/// Whether a `config` entry (`search_path=pg_catalog, public`) sets `search_path`.
fn sets_search_path(setting: &str) -> bool {
    setting
        .split_once('=')
        .is_some_and(|(name, _)| name.trim().eq_ignore_ascii_case("search_path"))
}

fn check(s: &SchemaInput, _ctx: &Context, out: &mut Vec<Finding>) {
    for (key, f) in &s.model.functions {
        if !f.security_definer || f.config.iter().any(|c| sets_search_path(c)) {
            continue;
        }
        let kind = function_keyword(f);
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "SECURITY DEFINER {} {key} does not pin search_path: callers can shadow the names it uses",
                    kind.to_ascii_lowercase()
                ),
            )
            .object(key)
            .at(s.locations.get("function", key))
            .fix(format!(
                "pin search_path on {key} (pg_temp last) and schema-qualify the names its body uses"
            ))
            .fix_sql(format!(
                "ALTER {kind} {} SET search_path = pg_catalog, pg_temp;",
                function_signature(f)
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::security::fixtures::{function, run, schema};

    #[test]
    fn fires_on_a_definer_without_search_path() {
        let mut m = schema(vec![]);
        let mut f = function("app", "Get User", "p_id integer, p_name character varying");
        f.security_definer = true;
        f.config = vec!["work_mem=64MB".into()];
        m.functions.insert(
            "app.Get User(p_id integer, p_name character varying)".into(),
            f,
        );
        let found = run(&RULE, &m);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].object.as_deref(),
            Some("app.Get User(p_id integer, p_name character varying)")
        );
        assert_eq!(
            found[0].fix_sql.as_deref(),
            Some(
                "ALTER FUNCTION \"app\".\"Get User\"(p_id integer, p_name character varying) \
                 SET search_path = pg_catalog, pg_temp;"
            )
        );
        let mut p = function("app", "purge", "");
        p.kind = "procedure".into();
        p.security_definer = true;
        m.functions.insert("app.purge()".into(), p);
        let found = run(&RULE, &m);
        assert_eq!(
            found[1].fix_sql.as_deref(),
            Some("ALTER PROCEDURE \"app\".\"purge\"() SET search_path = pg_catalog, pg_temp;")
        );
    }

    #[test]
    fn silent_when_pinned_or_invoker() {
        let mut m = schema(vec![]);
        let mut f = function("app", "f", "integer");
        f.security_definer = true;
        f.config = vec!["search_path=pg_catalog, public".into()];
        m.functions.insert("app.f(integer)".into(), f);
        let mut g = function("app", "g", "");
        g.security_definer = true;
        g.config = vec!["search_path=\"\"".into()];
        m.functions.insert("app.g()".into(), g);
        m.functions
            .insert("app.h()".into(), function("app", "h", ""));
        assert!(run(&RULE, &m).is_empty());
    }
}
