//! `idp user …`: people.

use clap::Subcommand;
use secrecy::ExposeSecret;

use super::{CliError, fail, read_secret};
use crate::admin::Actor;
use crate::admin::roles;
use crate::admin::users::{self, NewPerson};
use crate::auth::password::Hasher;
use crate::config::Config;
use crate::kinds::Role;
use crate::now;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a person by official e-mail (a short name is completed with IDP_EMAIL_DOMAIN).
    Add {
        email: String,
        #[arg(long)]
        name: String,
        /// Read a local password from standard input.
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        admin: bool,
        #[arg(long)]
        phone: Option<String>,
        /// Unit (đơn vị), which decides the apps the person sees.
        #[arg(long)]
        unit: Option<String>,
        /// Title (chức vụ).
        #[arg(long)]
        title: Option<String>,
        /// Employee code (mã nhân viên).
        #[arg(long)]
        employee_code: Option<String>,
        /// A group the person belongs to (repeatable); groups decide the apps they see.
        #[arg(long = "group")]
        groups: Vec<String>,
    },
    /// List people.
    List,
    /// Lift a sign-in lock after too many wrong passwords (needs the shared cache, Redis).
    Unlock { email: String },
    /// Remove a person's second factors and recovery codes (a lost phone);
    /// they set up new ones at their next sign-in. The owner is told by mail.
    ResetFactors { email: String },
    /// Issue a one-time enrolment code so a person with no second factor can
    /// set up the first one (shown once, valid 24 hours, spent on use).
    EnrolmentCode { email: String },
    /// Move a local person to another unit (the directory keeps its people's
    /// units); the unit bounds what a unit administrator manages.
    SetUnit { email: String, unit: String },
    /// Show a person's console roles, or grant or revoke one: super_admin,
    /// unit_admin (the person's own unit), clerk (văn thư), auditor.
    Role {
        email: String,
        #[arg(long, conflicts_with = "revoke")]
        grant: Option<String>,
        #[arg(long)]
        revoke: Option<String>,
    },
}

pub(super) async fn run(config: &Config, cmd: UserCommand) -> Result<(), CliError> {
    let (store, _) = crate::open_store(config).await?;
    let domain = config.email_domain.as_deref();
    let actor = Actor::cli();
    match cmd {
        UserCommand::Add {
            email,
            name,
            password_stdin,
            admin,
            phone,
            unit,
            title,
            employee_code,
            groups,
        } => {
            let password = if password_stdin {
                Some(read_secret("the password")?)
            } else {
                None
            };
            let has_password = password.is_some();
            let person = NewPerson {
                email,
                name,
                password,
                admin,
                phone,
                unit,
                title,
                employee_code,
                groups,
            };
            let hasher = Hasher::new(&config.password)?;
            let user = users::add(&store, &hasher, domain, person, &actor, now()).await?;
            println!("added {} ({}) sub={}", user.email, user.name, user.id);
            if !has_password {
                println!("no local password: sign-in needs --password-stdin or the directory");
            }
        }
        UserCommand::Unlock { email } => {
            // A mistyped account is reported before the missing cache.
            users::account(&email, domain)?;
            let Some(url) = &config.redis_url else {
                return Err(fail(
                    "the counters are in the server's memory (no redis_url): restarting the server clears them",
                ));
            };
            let cache = crate::cache::Cache::open(Some(url.expose_secret())).await?;
            let email = users::unlock(&store, &cache, domain, &email, &actor, now()).await?;
            println!("unlocked {email}");
        }
        UserCommand::ResetFactors { email } => {
            let mail = config.smtp.is_some();
            let (email, n) =
                users::reset_factors(&store, domain, &email, mail, &actor, now()).await?;
            println!("{n} second factors removed for {email}");
        }
        UserCommand::SetUnit { email, unit } => {
            let email = users::set_unit(&store, domain, &email, &unit, &actor, now()).await?;
            println!("{email} is now in unit {unit}");
        }
        UserCommand::EnrolmentCode { email } => {
            let issued = users::enrolment_code(&store, domain, &email, &actor, now()).await?;
            println!(
                "enrolment code for {} (shown once, valid {} hours, works once): {}",
                issued.email,
                crate::auth::mfa::ENROLMENT_CODE_HOURS,
                issued.code.expose_secret()
            );
        }
        UserCommand::Role {
            email,
            grant,
            revoke,
        } => {
            let email = users::account(&email, domain)?;
            let Some(person) = store.user_by_email(&email).await? else {
                return Err(fail(format!("no such person: {email}")));
            };
            let change = match (grant, revoke) {
                (Some(r), None) => Some((r, true)),
                (None, Some(r)) => Some((r, false)),
                _ => None,
            };
            if let Some((role, on)) = change {
                let role: Role = role.parse()?;
                let changed = roles::set(&store, None, &person, role, on, &actor, now()).await?;
                let what = match (changed, on) {
                    (false, _) => "unchanged",
                    (true, true) => "granted",
                    (true, false) => "revoked",
                };
                println!("{role} {what} for {email}");
            }
            let person = store.user_by_id(&person.id).await?.unwrap_or(person);
            let powers = roles::Powers::load(&store, &person).await?;
            let list: Vec<&str> = powers.roles.iter().map(|r| r.as_str()).collect();
            println!(
                "{email}\t{}",
                if list.is_empty() {
                    "-".into()
                } else {
                    list.join(",")
                }
            );
        }
        UserCommand::List => {
            let mut offset = 0;
            loop {
                let page = store.list_users(500, offset).await?;
                for u in &page {
                    let flags = [
                        u.is_admin().then_some("admin"),
                        u.is_disabled().then_some("disabled"),
                        u.password_hash.is_some().then_some("password"),
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(",");
                    println!("{}\t{}\t{}\t{}", u.email, u.name, u.id, flags);
                }
                if page.len() < 500 {
                    break;
                }
                offset += 500;
            }
        }
    }
    Ok(())
}
