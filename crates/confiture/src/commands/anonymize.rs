//! `confiture anonymize validate|verify`, and how a `--profile` argument finds its file.

use std::path::PathBuf;

use confiture_core::anonymize::profile::Profile;
use confiture_core::codes;
use confiture_core::config::Project;
use confiture_core::error::{ConfitureError, Result};
use confiture_ops::anonymize::{validate, verify};
use confiture_ops::sync::uncovered_error;
use confiture_ops::target::connect_target;

use crate::args::{AnonymizeCommand, GlobalArgs};
use crate::commands::{project, target_args};
use crate::output::{with_error, Output, Style};

/// `PROFILE` is a file (as given, or relative to the project), else `db/anonymization/PROFILE.yaml`.
pub fn profile_path(project: &Project, arg: &str) -> PathBuf {
    let given = PathBuf::from(arg);
    let candidates = [
        given.clone(),
        project.root.join(&given),
        project
            .root
            .join("db/anonymization")
            .join(format!("{arg}.yaml")),
        project
            .root
            .join("db/anonymization")
            .join(format!("{arg}.yml")),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .unwrap_or_else(|| {
            project
                .root
                .join("db/anonymization")
                .join(format!("{arg}.yaml"))
        })
}

pub fn load_profile(project: &Project, arg: &str) -> Result<Profile> {
    let var = |k: &str| std::env::var(k).ok();
    Profile::load(&profile_path(project, arg), &var)
}

pub async fn run(g: &GlobalArgs, c: &AnonymizeCommand, out: Output) -> Result<i32> {
    let project = project(g);
    let (arg, sample) = match c {
        AnonymizeCommand::Validate(a) => (&a.profile, None),
        AnonymizeCommand::Verify(a) => (&a.profile, Some(a.sample)),
    };
    let profile = load_profile(&project, arg)?;
    let source = connect_target(&project, &target_args(g), true).await?;
    match sample {
        None => {
            let r = validate(&profile, &source.conn).await?;
            let error = if !r.findings.is_empty() {
                Some(ConfitureError::new(
                    codes::ANON_PROFILE_MISMATCH,
                    format!(
                        "the profile does not fit {}: {}",
                        source.conn.display(),
                        r.findings
                            .iter()
                            .map(|f| format!(
                                "{}:{}: {}{}: {}",
                                r.file,
                                f.line,
                                f.table,
                                f.column
                                    .as_deref()
                                    .map(|c| format!(".{c}"))
                                    .unwrap_or_default(),
                                f.problem
                            ))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                ))
            } else if profile.strict && !r.uncovered_pii.is_empty() {
                Some(uncovered_error(&r.uncovered_pii, Some(&profile)))
            } else {
                None
            };
            out.report(error.is_none(), &with_error(&r, error.as_ref()), || {
                let mut s = String::new();
                for f in &r.findings {
                    s.push_str(&out.paint(
                        Style::Fail,
                        &format!(
                            "✗ {}:{} {}{}: {}\n",
                            r.file,
                            f.line,
                            f.table,
                            f.column.as_deref().map(|c| format!(".{c}")).unwrap_or_default(),
                            f.problem
                        ),
                    ));
                }
                for u in &r.uncovered_pii {
                    s.push_str(
                        &out.paint(Style::Warn, &format!("! {} has no rule\n", u.describe())),
                    );
                }
                if error.is_none() {
                    s.push_str(&out.paint(
                        Style::Ok,
                        &format!(
                            "profile '{}' fits {} ({} rule(s))\n",
                            r.profile,
                            source.conn.display(),
                            r.rules
                        ),
                    ));
                }
                s
            });
            finish(&out, error)
        }
        Some(n) => {
            let r = verify(&profile, &source.conn, n).await?;
            let error = (!r.ok).then(|| {
                ConfitureError::new(
                    codes::ANON_VERIFY_FAILED,
                    format!(
                        "verification of profile '{}' failed: {}",
                        r.profile,
                        r.columns
                            .iter()
                            .flat_map(|c| c
                                .problems
                                .iter()
                                .map(move |p| format!("{}.{}: {p}", c.table, c.column)))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                )
            });
            out.report(r.ok, &with_error(&r, error.as_ref()), || {
                let mut s = String::new();
                for c in &r.columns {
                    let mark = if c.problems.is_empty() {
                        out.paint(Style::Ok, "✓")
                    } else {
                        out.paint(Style::Fail, "✗")
                    };
                    s.push_str(&format!(
                        "{mark} {}.{} ({}): {} of {} changed{}{}\n",
                        c.table,
                        c.column,
                        c.strategy,
                        c.changed,
                        c.sampled,
                        if c.deterministic {
                            ", deterministic"
                        } else {
                            ""
                        },
                        if c.problems.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", c.problems.join("; "))
                        }
                    ));
                }
                s
            });
            finish(&out, error)
        }
    }
}

fn finish(out: &Output, error: Option<ConfitureError>) -> Result<i32> {
    match error {
        None => Ok(0),
        Some(e) => {
            if !out.json() {
                out.error(&e);
            }
            Ok(e.exit_class().code())
        }
    }
}
