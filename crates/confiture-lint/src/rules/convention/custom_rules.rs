//! `custom-rules`: the project's own conventions, `linting.custom_rules` (table prefixes,
//! required and forbidden columns, read models and their sources). Findings carry the custom
//! rule's `name` as their rule id and its `severity`.

use std::path::{Component, Path, PathBuf};

use confiture_core::config::linting::{CustomKind, CustomRule};
use confiture_core::schema::Table;
use globset::{Glob, GlobMatcher};

use crate::finding::Finding;
use crate::inputs::{Loc, SchemaInput};
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::util::{table_key, tables};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "custom-rules",
    category: Category::Convention,
    severity: Severity::Warning,
    summary: "The project's custom rules (linting.custom_rules)",
    explanation: "Runs every entry of `linting.custom_rules`. Each finding carries the entry's \
`name` as its rule id (so `linting.rules.<name>`, `--ignore <name>` and `lint-ignore <name>` \
comments apply to it), its `severity` (default warning) and its `message` (after the object; \
a default message otherwise).\n\nScope: a table is affected when its schema is listed in \
`affected_schema`, or when the file that defines it lies under one of `affected_dirs` \
(project-relative directories, matched by path prefix: `db/schema/01_write_side` covers \
`db/schema/01_write_side/orders/tb_order.sql`). With neither given, every table is affected. \
Directories are known only when linting the schema files; a model read from a database has \
none.\n\nTypes:\n- `table_prefix`: affected tables' names start with `pattern` (`w_` for the \
write side, `r_` for the query side).\n- `column_required`: affected tables have a column named \
`pattern` (`tenant_id`, `created_at`).\n- `column_forbidden`: affected tables have no column \
whose name matches the glob `pattern` (`legacy_*`).\n- `read_model_sources`: tables whose name \
(or `schema.table`, when the glob has a dot) matches the glob `pattern` (`r_*`) are read \
models, within the scope when one is given. Each declares the tables it is built from in its \
COMMENT, in either form:\n\n    COMMENT ON TABLE r_order_summary IS 'Order totals per \
customer. sources: w_orders, w_customers';\n    COMMENT ON TABLE r_order_summary IS '@source \
w_orders @source app.w_customers';\n\n  (`sources:`/`source:` or `@source`/`@sources`, case \
insensitive, followed by a comma-separated list; several markers add up.) A bare name is looked \
up in the read model's schema, then in any schema; `schema.table` exactly. A source may be a \
table or a view. A read model without a declaration is a finding, and so is each declared \
source that does not exist.\n\nFix: rename the table, add or drop the column, or write or \
correct the read model's comment, as the finding says.",
    bundle: None,
    check: Check::Schema(check),
};

fn check(s: &SchemaInput, ctx: &Context, out: &mut Vec<Finding>) {
    for rule in &ctx.config.custom_rules {
        let mut emit = |object: &str, default: String, loc: Option<&Loc>, fix: String| {
            let message = match &rule.message {
                Some(m) => format!("{object}: {m}"),
                None => default,
            };
            let mut f = Finding::new(&RULE, message)
                .severity(rule.severity)
                .object(object)
                .at(loc)
                .fix(fix);
            f.rule = rule.name.clone();
            out.push(f);
        };
        let glob = match rule.kind {
            CustomKind::ColumnForbidden | CustomKind::ReadModelSources => {
                match Glob::new(&rule.pattern) {
                    Ok(g) => Some(g.compile_matcher()),
                    Err(e) => {
                        let mut f = Finding::new(
                            &RULE,
                            format!(
                                "custom rule '{}': pattern '{}' is not a valid glob: {e}",
                                rule.name, rule.pattern
                            ),
                        )
                        .severity(rule.severity)
                        .fix("correct the pattern in linting.custom_rules");
                        f.rule = rule.name.clone();
                        f.file = Some(rule.location.file.clone());
                        f.line = rule.location.line;
                        f.column = rule.location.column;
                        out.push(f);
                        continue;
                    }
                }
            }
            _ => None,
        };
        for t in tables(s) {
            let key = table_key(t);
            let loc = s.locations.get("table", &key);
            match rule.kind {
                CustomKind::TablePrefix => {
                    if affected(rule, s, t) && !t.name.starts_with(&rule.pattern) {
                        emit(
                            &key,
                            format!("table {key} does not start with '{}'", rule.pattern),
                            loc,
                            format!(
                                "rename it: ALTER TABLE {key} RENAME TO {}{}",
                                rule.pattern, t.name
                            ),
                        );
                    }
                }
                CustomKind::ColumnRequired => {
                    if affected(rule, s, t) && !t.columns.iter().any(|c| c.name == rule.pattern) {
                        emit(
                            &key,
                            format!("table {key} has no column {}", rule.pattern),
                            loc,
                            format!("ALTER TABLE {key} ADD COLUMN {} …", rule.pattern),
                        );
                    }
                }
                CustomKind::ColumnForbidden => {
                    let g = glob.as_ref().expect("compiled above");
                    if !affected(rule, s, t) {
                        continue;
                    }
                    for c in t.columns.iter().filter(|c| !c.inherited) {
                        if g.is_match(&c.name) {
                            let object = format!("{key}.{}", c.name);
                            emit(
                                &object,
                                format!(
                                    "column {object} matches the forbidden pattern '{}'",
                                    rule.pattern
                                ),
                                s.locations.get("column", &object).or(loc),
                                format!(
                                    "drop or rename it: ALTER TABLE {key} DROP COLUMN {}",
                                    c.name
                                ),
                            );
                        }
                    }
                }
                CustomKind::ReadModelSources => {
                    let g = glob.as_ref().expect("compiled above");
                    let scoped = !rule.affected_dirs.is_empty() || !rule.affected_schema.is_empty();
                    if !is_read_model(g, &rule.pattern, t) || (scoped && !affected(rule, s, t)) {
                        continue;
                    }
                    let sources = declared_sources(t.comment.as_deref().unwrap_or(""));
                    if sources.is_empty() {
                        emit(
                            &key,
                            format!("read model {key} declares no source tables"),
                            loc,
                            format!("COMMENT ON TABLE {key} IS '… sources: <table>, <table>'"),
                        );
                        continue;
                    }
                    for src in sources {
                        if !source_exists(s, &t.schema, &src) {
                            emit(
                                &key,
                                format!(
                                    "read model {key} declares source {src}, which does not exist"
                                ),
                                loc,
                                format!(
                                    "correct the sources in the COMMENT of {key}, or create {src}"
                                ),
                            );
                        }
                    }
                }
            }
        }
    }
}

/// `db/schema/./x/` → `db/schema/x`.
fn normalize(dir: &str) -> PathBuf {
    Path::new(dir)
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

fn affected(rule: &CustomRule, s: &SchemaInput, t: &Table) -> bool {
    if rule.affected_dirs.is_empty() && rule.affected_schema.is_empty() {
        return true;
    }
    if rule.affected_schema.contains(&t.schema) {
        return true;
    }
    let Some(dir) = s.locations.table_dir(&table_key(t)) else {
        return false;
    };
    let dir = normalize(&dir.to_string_lossy());
    rule.affected_dirs
        .iter()
        .any(|a| dir.starts_with(normalize(a)))
}

fn is_read_model(g: &GlobMatcher, pattern: &str, t: &Table) -> bool {
    if pattern.contains('.') {
        g.is_match(table_key(t))
    } else {
        g.is_match(&t.name)
    }
}

/// The source tables a read model's comment declares: `sources: a, b` / `source: a` /
/// `@source a` / `@sources a, b` (case insensitive; several markers add up).
pub fn declared_sources(comment: &str) -> Vec<String> {
    let lower = comment.to_ascii_lowercase();
    let mut out: Vec<String> = Vec::new();
    let mut at = 0;
    while at < lower.len() {
        let rest = &lower[at..];
        let Some((pos, len)) = ["@sources", "@source", "sources:", "source:"]
            .iter()
            .filter_map(|m| rest.find(m).map(|p| (p, m.len())))
            .min_by_key(|&(p, len)| (p, usize::MAX - len))
        else {
            break;
        };
        let start = at + pos + len;
        // A marker inside a word (`datasource:`) does not count.
        let before = lower[..at + pos].chars().next_back();
        let inside_word = before.is_some_and(|c| c.is_alphanumeric() || c == '_');
        let (names, end) = name_list(comment, start);
        if !inside_word {
            for n in names {
                if !out.contains(&n) {
                    out.push(n);
                }
            }
        }
        at = end.max(start);
    }
    out
}

/// A comma-separated list of names from `start`; returns the names and where the list ends.
fn name_list(text: &str, start: usize) -> (Vec<String>, usize) {
    let bytes = text.as_bytes();
    let mut i = start;
    let mut names = Vec::new();
    let is_name = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'$' | b'"');
    loop {
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
            i += 1;
        }
        let from = i;
        while i < bytes.len() && is_name(bytes[i]) {
            i += 1;
        }
        let name = text[from..i].trim_end_matches('.').replace('"', "");
        if name.is_empty() {
            break;
        }
        names.push(name);
        let mut j = i;
        while j < bytes.len() && matches!(bytes[j], b' ' | b'\t') {
            j += 1;
        }
        if j < bytes.len() && bytes[j] == b',' {
            i = j + 1;
        } else {
            break;
        }
    }
    (names, i)
}

fn source_exists(s: &SchemaInput, schema: &str, name: &str) -> bool {
    let m = s.model;
    if name.contains('.') {
        return m.tables.contains_key(name) || m.views.contains_key(name);
    }
    let local = format!("{schema}.{name}");
    m.tables.contains_key(&local)
        || m.views.contains_key(&local)
        || m.tables.values().any(|t| t.name == name)
        || m.views.values().any(|v| v.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::Locations;
    use crate::rules::security::fixtures::{locations, run_with, schema, table};
    use confiture_core::config::linting::LintingConfig;
    use confiture_core::error::Location;
    use confiture_core::schema::Schema;

    fn custom(name: &str, kind: CustomKind, pattern: &str) -> CustomRule {
        CustomRule {
            name: name.into(),
            kind,
            pattern: pattern.into(),
            affected_dirs: Vec::new(),
            affected_schema: Vec::new(),
            severity: Severity::Error,
            message: None,
            location: Location::at("db/environments/local.yaml", 12, 5),
        }
    }

    fn lint(rules: Vec<CustomRule>, m: &Schema, l: &Locations) -> Vec<Finding> {
        let cfg = LintingConfig {
            custom_rules: rules,
            ..LintingConfig::default()
        };
        run_with(&RULE, m, l, &cfg, "local", None)
    }

    fn cqrs() -> (Schema, Locations) {
        let m = schema(vec![
            table(
                "public.w_orders",
                &[("id", "bigint"), ("tenant_id", "uuid")],
            ),
            table("public.orders_tmp", &[("id", "bigint")]),
            table(
                "public.r_orders",
                &[("id", "bigint"), ("legacy_code", "text")],
            ),
            table("public.settings", &[("k", "text")]),
        ]);
        let l = locations(&[
            (
                "public.w_orders",
                "db/schema/01_write_side/orders/w_orders.sql",
            ),
            (
                "public.orders_tmp",
                "db/schema/01_write_side/orders/tmp.sql",
            ),
            ("public.r_orders", "db/schema/02_query_side/r_orders.sql"),
            ("public.settings", "db/schema/00_common/settings.sql"),
        ]);
        (m, l)
    }

    #[test]
    fn table_prefix_by_directory() {
        let (m, l) = cqrs();
        let mut w = custom("write-side-prefix", CustomKind::TablePrefix, "w_");
        w.affected_dirs = vec!["db/schema/01_write_side/".into()];
        w.message = Some("write-side tables start with w_".into());
        let mut r = custom("query-side-prefix", CustomKind::TablePrefix, "r_");
        r.affected_dirs = vec!["./db/schema/02_query_side".into()];
        let found = lint(vec![w, r], &m, &l);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.rule, "write-side-prefix");
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(f.object.as_deref(), Some("public.orders_tmp"));
        assert_eq!(
            f.message,
            "public.orders_tmp: write-side tables start with w_"
        );
        assert_eq!(
            f.file.as_deref(),
            Some(Path::new("db/schema/01_write_side/orders/tmp.sql"))
        );
    }

    #[test]
    fn table_prefix_silent_when_named_or_out_of_scope() {
        let (mut m, l) = cqrs();
        m.tables.remove("public.orders_tmp");
        let mut w = custom("write-side-prefix", CustomKind::TablePrefix, "w_");
        w.affected_dirs = vec!["db/schema/01_write".into()]; // a prefix of components, not text
        let mut s = custom("app-prefix", CustomKind::TablePrefix, "app_");
        s.affected_schema = vec!["app".into()];
        assert!(lint(vec![w.clone(), s], &m, &l).is_empty());
        w.affected_dirs = vec!["db/schema/01_write_side".into()];
        assert!(lint(vec![w], &m, &l).is_empty());
    }

    #[test]
    fn column_required() {
        let (m, l) = cqrs();
        let mut c = custom("tenant-column", CustomKind::ColumnRequired, "tenant_id");
        c.affected_dirs = vec!["db/schema/01_write_side".into()];
        c.severity = Severity::Warning;
        let found = lint(vec![c.clone()], &m, &l);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].object.as_deref(), Some("public.orders_tmp"));
        assert_eq!(found[0].rule, "tenant-column");
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(found[0].message.contains("no column tenant_id"));

        let mut m2 = m.clone();
        m2.tables.remove("public.orders_tmp");
        assert!(lint(vec![c], &m2, &l).is_empty());
    }

    #[test]
    fn column_forbidden() {
        let (m, l) = cqrs();
        let c = custom("no-legacy", CustomKind::ColumnForbidden, "legacy_*");
        let found = lint(vec![c.clone()], &m, &l);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].object.as_deref(),
            Some("public.r_orders.legacy_code")
        );

        let mut scoped = c;
        scoped.affected_schema = vec!["app".into()];
        assert!(lint(vec![scoped], &m, &l).is_empty());
    }

    #[test]
    fn read_model_sources() {
        let (mut m, l) = cqrs();
        let rule = custom("read-models", CustomKind::ReadModelSources, "r_*");
        // No declaration.
        let found = lint(vec![rule.clone()], &m, &l);
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("declares no source"));
        // A missing source.
        m.tables.get_mut("public.r_orders").unwrap().comment =
            Some("Totals. sources: w_orders, w_customers. Refreshed hourly.".into());
        let found = lint(vec![rule.clone()], &m, &l);
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .message
                .contains("w_customers, which does not exist"),
            "{}",
            found[0].message
        );
        // Every source exists (bare, qualified, a view).
        m.views.insert(
            "public.v_customers".into(),
            confiture_core::schema::View {
                schema: "public".into(),
                name: "v_customers".into(),
                ..Default::default()
            },
        );
        m.tables.get_mut("public.r_orders").unwrap().comment =
            Some("@source w_orders @sources public.orders_tmp, v_customers".into());
        assert!(lint(vec![rule.clone()], &m, &l).is_empty());
        // The glob selects no table.
        let other = custom("read-models", CustomKind::ReadModelSources, "q_*");
        m.tables.get_mut("public.r_orders").unwrap().comment = None;
        assert!(lint(vec![other], &m, &l).is_empty());
    }

    #[test]
    fn declarations() {
        assert_eq!(
            declared_sources("Sources: w_orders, app.w_customers; refreshed"),
            ["w_orders", "app.w_customers"]
        );
        assert_eq!(
            declared_sources("@sources a,b @source c\nsource: \"D\""),
            ["a", "b", "c", "D"]
        );
        assert!(declared_sources("datasource: x").is_empty());
        assert!(declared_sources("sources:").is_empty());
        assert!(declared_sources("built nightly").is_empty());
    }

    #[test]
    fn invalid_glob_is_reported_at_the_rule() {
        let (m, l) = cqrs();
        let found = lint(
            vec![custom("bad", CustomKind::ColumnForbidden, "a[")],
            &m,
            &l,
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, Some(12));
    }
}
