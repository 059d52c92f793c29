//! `idp link …`: importing a legacy app's accounts, matching them to people,
//! linking by hand, CSV export, and deciding people's link requests. Every
//! rule is `admin::links`; this file reads the source, prints and shows
//! progress on standard error.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{ArgGroup, Subcommand};
use connectors::{AppConnector, Format, Location, Source};

use super::{CliError, fail};
use crate::admin::Actor;
use crate::admin::links::{self, RequestDecision};
use crate::admin::users;
use crate::config::Config;
use crate::now;

#[derive(Debug, Subcommand)]
pub enum LinkCommand {
    /// Import an app's accounts from its export file or user API.
    Import {
        /// The app (`idp app list`).
        app: String,
        /// A file, or an http(s) URL.
        source: String,
        /// onewin, ioffice, ecabinet, calendar, csv or json; defaults to the
        /// app id when it is one of the first four. csv and json read
        /// [link.sources.APP] from the configuration.
        #[arg(long)]
        format: Option<String>,
    },
    /// Match the app's accounts to people and fill the review queue.
    Suggest {
        app: String,
        /// Link every unambiguous e-mail or phone match that is no conflict.
        #[arg(long)]
        accept_exact: bool,
    },
    /// Print the app's accounts and links as CSV.
    Export { app: String },
    /// Import links from a CSV file (username, official_email): all rows or none.
    ImportCsv { app: String, file: PathBuf },
    /// Link a legacy account to a person by hand.
    Add {
        /// The person's official e-mail (or short name).
        email: String,
        app: String,
        legacy_username: String,
    },
    /// Remove a link.
    Remove {
        app: String,
        legacy_username: String,
    },
    /// List the pending link requests.
    Requests,
    /// Decide a link request: link an account, or refuse with a reason.
    #[command(group(ArgGroup::new("decision").required(true).args(["username", "reject"])))]
    Decide {
        id: i64,
        /// The account of the app to link to the person.
        #[arg(long)]
        username: Option<String>,
        /// Refuse, with the reason the person reads.
        #[arg(long)]
        reject: Option<String>,
    },
}

/// Prints progress on standard error: a `\r` counter on a terminal, else a
/// line every `EVERY` items.
struct Progress {
    what: &'static str,
    tty: bool,
}

const EVERY: usize = 5000;

impl Progress {
    fn new(what: &'static str) -> Progress {
        Progress {
            what,
            tty: std::io::stderr().is_terminal(),
        }
    }

    fn show(&self, n: usize) {
        let mut err = std::io::stderr();
        if self.tty {
            let _ = write!(err, "\r{} {n}", self.what);
            let _ = err.flush();
        } else if n > 0 && n.is_multiple_of(EVERY) {
            let _ = writeln!(err, "{} {n}", self.what);
        }
    }

    fn done(&self) {
        if self.tty {
            eprintln!();
        }
    }
}

fn format_of(app: &str, typed: Option<&str>) -> Result<Format, CliError> {
    let name = typed.unwrap_or(app);
    match Format::parse(name) {
        Some(f) => Ok(f),
        None if typed.is_some() => Err(fail(format!(
            "unknown format {name}; use onewin, ioffice, ecabinet, calendar, csv or json"
        ))),
        None => Err(fail(format!(
            "{app} is not one of onewin, ioffice, ecabinet, calendar: give --format csv or --format json"
        ))),
    }
}

pub(super) async fn run(config: &Config, cmd: LinkCommand) -> Result<(), CliError> {
    let (store, _) = crate::open_store(config).await?;
    let actor = Actor::cli();
    let domain = config.email_domain.as_deref();
    match cmd {
        LinkCommand::Import {
            app,
            source,
            format,
        } => {
            let format = format_of(&app, format.as_deref())?;
            if store.app(&app).await?.is_none() {
                return Err(links::LinkError::NoApp(app).into());
            }
            let source = Source {
                format,
                location: Location::parse(&source),
                settings: config.link.source(&app),
            };
            let progress = Progress::new("accounts read:");
            let accounts = source.list_accounts(&|n| progress.show(n)).await?;
            progress.done();
            eprintln!("read {} accounts; writing", accounts.len());
            let r = links::import_accounts(&store, &actor, &app, &accounts, now()).await?;
            println!(
                "{app}: read {}, new {}, changed {}, unchanged {}, gone (now inactive) {}",
                r.read, r.new, r.changed, r.unchanged, r.gone
            );
            for (username, owner) in &r.gone_linked {
                println!("gone but linked (link kept): {username} of {owner}");
            }
            if !r.duplicates.is_empty() {
                println!(
                    "usernames listed more than once (first kept): {}",
                    r.duplicates.join(", ")
                );
            }
        }
        LinkCommand::Suggest { app, accept_exact } => {
            eprintln!("matching the accounts of {app}…");
            let r = links::suggest(&store, &actor, &app, accept_exact, now()).await?;
            println!(
                "{app}: {} unlinked active accounts matched; {} ambiguous; {} rejected before (left rejected)",
                r.accounts, r.ambiguous, r.rejected_before
            );
            for (reason, n) in &r.by_reason {
                let linked = r.accepted.linked.get(reason).copied().unwrap_or(0);
                println!("  {reason}: {n} suggested, {linked} linked");
            }
            if accept_exact {
                println!(
                    "linked {}; {} exact matches left pending as conflicts",
                    r.accepted.linked_total(),
                    r.accepted.conflicts
                );
            }
        }
        LinkCommand::Export { app } => {
            let csv = links::export_csv(&store, &app, None).await?;
            std::io::stdout()
                .write_all(csv.as_bytes())
                .map_err(|e| fail(format!("writing standard output: {e}")))?;
        }
        LinkCommand::ImportCsv { app, file } => {
            let meta =
                std::fs::metadata(&file).map_err(|e| fail(format!("{}: {e}", file.display())))?;
            if meta.len() > links::MAX_CSV_BYTES as u64 {
                return Err(fail(format!("{}: the file is too large", file.display())));
            }
            let bytes =
                std::fs::read(&file).map_err(|e| fail(format!("{}: {e}", file.display())))?;
            let r = links::import_links_csv(&store, &actor, &app, &bytes, None, now()).await?;
            println!(
                "{app}: {} rows, {} linked, {} already linked, {} without an e-mail skipped",
                r.rows, r.linked, r.unchanged, r.skipped
            );
        }
        LinkCommand::Add {
            email,
            app,
            legacy_username,
        } => {
            let email = users::account(&email, domain)?;
            let l = links::add(&store, &actor, &email, &app, &legacy_username, None, now()).await?;
            println!("linked {} of {app} to {email}", l.username);
        }
        LinkCommand::Remove {
            app,
            legacy_username,
        } => {
            let l = links::remove(&store, &actor, &app, &legacy_username, None, now()).await?;
            println!(
                "removed the link of {} of {app} ({})",
                l.username, l.user_id
            );
        }
        LinkCommand::Requests => {
            let mut after = 0;
            loop {
                let page = links::pending_requests(&store, None, after, 500).await?;
                for r in &page {
                    let who = store
                        .user_by_id(&r.user_id)
                        .await?
                        .map(|u| u.email.to_string())
                        .unwrap_or_default();
                    println!(
                        "{}\t{}\t{who}\t{}\t{}",
                        r.id,
                        r.app_id,
                        crate::portal::account::vn_time(r.created_at),
                        r.note.replace(['\t', '\n'], " ")
                    );
                }
                match page.last() {
                    Some(r) if page.len() == 500 => after = r.id,
                    _ => break,
                }
            }
        }
        LinkCommand::Decide {
            id,
            username,
            reject,
        } => {
            let decision = match (username, reject) {
                (Some(username), None) => RequestDecision::Link { username },
                (None, Some(reason)) => RequestDecision::Reject { reason },
                _ => return Err(fail("give --username U or --reject REASON")),
            };
            let mail = config.smtp.is_some();
            let d = links::decide_request(&store, &actor, id, decision, None, mail, now()).await?;
            match &d.link {
                Some(l) => println!("request {id}: linked {} of {}", l.username, l.app_id),
                None => println!("request {id}: refused"),
            }
            if !d.mailed {
                println!("no mail server configured ([smtp]): the person was not told by e-mail");
            }
        }
    }
    Ok(())
}
