//! `confiture init [DIR]`.

use confiture_core::error::Result;
use confiture_core::scaffold;

use crate::args::{GlobalArgs, InitArgs};
use crate::output::{Output, Style};

pub fn run(g: &GlobalArgs, a: &InitArgs, out: Output) -> Result<i32> {
    let root = a
        .dir
        .clone()
        .or_else(|| g.project_dir.clone())
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    let report = scaffold::init_project(&root, a.force)?;
    out.report(true, &report, || {
        let mut text = format!("Initialized a Confiture project in {}\n", root.display());
        for f in &report.created {
            text.push_str(&format!(
                "  {} {}\n",
                out.paint(Style::Ok, "created"),
                f.display()
            ));
        }
        for f in &report.skipped {
            text.push_str(&format!(
                "  {} {} (exists)\n",
                out.paint(Style::Dim, "kept"),
                f.display()
            ));
        }
        text.push_str(
            "\nNext: `confiture db start` for a local PostgreSQL, then `confiture doctor`.\n",
        );
        text
    });
    Ok(0)
}
