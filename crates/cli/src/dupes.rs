//! `shoebox dupes`: presentation of the engine's duplicate verbs.

use crate::output::say;
use anyhow::Result;
use clap::Subcommand;
use serde::Serialize;
use shoebox_engine::dupes::{DuplicateReport, Resolution, Tier, UndoReport};
use shoebox_engine::Library;

use crate::output::print_json;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DupesArgs {
    /// Only this tier: exact, near or similar.
    #[arg(long)]
    tier: Option<Tier>,
    #[command(subcommand)]
    command: Option<DupesCommand>,
}

#[derive(Subcommand)]
enum DupesCommand {
    /// Keep one member of a group and move the others to the OS trash.
    Resolve {
        group: String,
        /// Member id to keep (default: the suggestion; required for similar shots).
        #[arg(long)]
        keep: Option<i64>,
        /// Print the plan without moving anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Apply the suggestion to every group of a tier (exact or near).
    ResolveAll {
        #[arg(long)]
        tier: Tier,
        /// Print the plan without moving anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Remember that a group is not duplicates (or that all are kept).
    Ignore { group: String },
    /// Every resolution so far, with the files it moved to the trash.
    History,
    /// Put the files of a resolution back from the trash (Linux, Windows).
    Undo { action: i64 },
}

pub fn run(library: &Library, json: bool, args: &DupesArgs) -> Result<()> {
    match &args.command {
        None => list(json, &library.duplicate_report(args.tier)?),
        Some(DupesCommand::Resolve {
            group,
            keep,
            dry_run,
        }) => {
            let r = library.resolve_duplicate(group, *keep, *dry_run)?;
            if json {
                return print_json(&r);
            }
            print_resolution(&r);
            Ok(())
        }
        Some(DupesCommand::ResolveAll { tier, dry_run }) => {
            let bulk = library.resolve_all_duplicates(*tier, *dry_run)?;
            if json {
                return print_json(&bulk);
            }
            let all = &bulk.groups;
            for r in all {
                print_resolution(r);
            }
            let files: usize = all.iter().map(|r| r.trash.len()).sum();
            if *dry_run {
                say!(
                    "Dry run: {} groups, {files} files would go to the trash. Nothing was moved.",
                    all.len()
                );
            } else {
                let moved: usize = all.iter().map(|r| r.trashed.len()).sum();
                say!(
                    "{} groups resolved, {moved} files moved to the trash.",
                    all.len()
                );
            }
            Ok(())
        }
        Some(DupesCommand::Ignore { group }) => {
            let g = library.ignore_duplicate(group)?;
            if json {
                return print_json(&g);
            }
            say!(
                "Group {} ({} members) will not be proposed again.",
                g.group,
                g.members
            );
            Ok(())
        }
        Some(DupesCommand::History) => {
            let actions = library.duplicate_history()?;
            if json {
                #[derive(Serialize)]
                struct History<'a, T> {
                    actions: &'a [T],
                }
                return print_json(&History { actions: &actions });
            }
            if actions.is_empty() {
                say!("No duplicates were resolved yet.");
            }
            for a in &actions {
                let state = match &a.undone_at {
                    Some(t) => format!(" (undone {t})"),
                    None => String::new(),
                };
                say!(
                    "#{} {} {} group {}: kept {}{state}",
                    a.id,
                    a.created_at,
                    a.tier,
                    a.group,
                    a.kept
                );
                for f in &a.files {
                    say!("    trashed {}", f.display);
                }
            }
            Ok(())
        }
        Some(DupesCommand::Undo { action }) => {
            let report = library.undo_duplicate_action(*action)?;
            if json {
                return print_json(&report);
            }
            print_undo(&report);
            Ok(())
        }
    }
}

fn list(json: bool, report: &DuplicateReport) -> Result<()> {
    if json {
        return print_json(report);
    }
    let groups = &report.groups;
    if groups.is_empty() {
        say!("No duplicates found.");
    }
    for g in groups {
        say!(
            "{} {} ({} {}): keep {} — {}",
            g.tier,
            g.id,
            g.members.len(),
            match g.kind {
                shoebox_engine::dupes::GroupKind::Copies => "copies",
                shoebox_engine::dupes::GroupKind::Photos => "photos",
            },
            g.keep,
            g.reason
        );
        for m in &g.members {
            let mark = if m.id == g.keep { '*' } else { ' ' };
            say!(
                "  {mark} {:>6}  {}×{}  {:>9} bytes  {}",
                m.id,
                m.width,
                m.height,
                m.bytes,
                m.path
            );
        }
        for n in &g.notes {
            say!("    note: {n}");
        }
    }
    Ok(())
}

fn print_resolution(r: &Resolution) {
    let verb = if r.dry_run { "would keep" } else { "kept" };
    say!(
        "{} {}: {verb} {} ({})",
        r.tier,
        r.group,
        r.keep_path,
        r.reason
    );
    if r.dry_run {
        for p in &r.trash {
            say!("    would trash {p}");
        }
    } else {
        for p in &r.trashed {
            say!("    trashed {p}");
        }
    }
    for s in &r.skipped {
        say!("    left in place {}: {}", s.path, s.reason);
    }
    if let Some(a) = r.action {
        say!("    (action #{a}; `shoebox dupes undo {a}` restores)");
    }
}

fn print_undo(r: &UndoReport) {
    for p in &r.restored {
        say!("restored {p}");
    }
    for p in &r.not_in_trash {
        say!("not in the trash any more: {p}");
    }
    say!("Run `shoebox scan` to index the restored files again.");
}
