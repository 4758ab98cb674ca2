//! The command line: `serve` (the default) and the operator commands, which
//! act on the ledger directly with the same service methods as the API.

mod finance;

use std::{net::SocketAddr, process::ExitCode};

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::{
    config::Config,
    database::Database,
    domain::{
        Action, Amount, BankAccountId, Note, TokenId, TransactionNo, UserId, WithdrawalId,
        WithdrawalState,
    },
    http::OperatorError,
    service::{Dompet, NewBankAccount, NewUser, Page, Posted, Posting, ServiceError},
    startup::{shutdown_signal, Application, StartError},
    wire::{
        BankAccountJson, CreatedUserJson, LedgerReportJson, MutationJson, OperatorWithdrawalJson,
        RevokedJson, TokenListJson, UserJson, WithdrawalListJson,
    },
};

/// Exit code when `ledger verify` finds violations.
pub const EXIT_VIOLATIONS: u8 = 3;

#[derive(Debug, Parser)]
#[command(
    name = "dompet",
    version,
    about = "The Bukalapak Dompet API on a PostgreSQL ledger"
)]
#[command(
    after_help = "Without a command, dompet serves the API (same as `dompet serve`).\n\
Configuration comes from the environment and .env; see .env.example.\n\
Exit codes: 0 done, 1 refused or failed, 2 bad usage, 3 ledger violations found."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default).
    Serve {
        /// Listen address; overrides DOMPET_ADDR.
        #[arg(long)]
        addr: Option<SocketAddr>,
    },
    /// Apply the ledger migrations and exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// List and revoke users' API tokens (one per login).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage bank accounts.
    #[command(subcommand, name = "bank-account")]
    BankAccount(BankAccountCommand),
    /// Post back-office credits and debits.
    #[command(subcommand)]
    Mutation(MutationCommand),
    /// The finance team's withdrawal queue.
    #[command(subcommand)]
    Withdrawal(WithdrawalCommand),
    /// Top-ups: the list, confirm, cancel, and bank statement reconciliation.
    #[command(subcommand)]
    Topup(finance::TopupCommand),
    /// Audit the ledger.
    #[command(subcommand)]
    Ledger(LedgerCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user and its wallet; prints the API token (shown only once).
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// The user's password (8 to 1024 characters). Prefer the variable:
        /// a command line is visible to every local user (ps, /proc).
        #[arg(long, env = "DOMPET_USER_PASSWORD", hide_env_values = true)]
        password: String,
        /// Import with this user id.
        #[arg(long)]
        id: Option<UserId>,
        /// Import with this API token (20+ characters of [A-Za-z0-9]).
        /// Prefer the variable, as for the password.
        #[arg(long, env = "DOMPET_USER_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// The display name logins answer with (the username when absent).
        #[arg(long)]
        name: Option<String>,
    },
    /// Show a user with its wallet balance.
    Show { id: UserId },
    /// Replace a user's password; revokes every API token of the user.
    #[command(name = "set-password")]
    SetPassword {
        /// The user's id.
        id: UserId,
        /// The new password (8 to 1024 characters).
        #[arg(long, env = "DOMPET_USER_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// List a user's tokens (id and creation time, never the token), oldest first.
    List {
        /// The user's id.
        user_id: UserId,
    },
    /// Revoke one token of a user, or all of them with --all.
    #[command(group = clap::ArgGroup::new("which").required(true).args(["token_id", "all"]))]
    Revoke {
        /// The user's id.
        user_id: UserId,
        /// The token's id (from `dompet token list`).
        token_id: Option<TokenId>,
        /// Revoke every token of the user.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum BankAccountCommand {
    /// Add a bank account to a user.
    Add {
        #[arg(long)]
        user_id: UserId,
        #[arg(long)]
        bank_name: String,
        #[arg(long)]
        account_number: String,
        #[arg(long)]
        account_name: String,
        /// Import with this bank account id.
        #[arg(long)]
        id: Option<BankAccountId>,
    },
}

#[derive(Debug, Subcommand)]
pub enum MutationCommand {
    /// Credit (remit, topup, refund) or debit (payment) a wallet, once per key.
    Post(PostArgs),
}

#[derive(Debug, Args)]
pub struct PostArgs {
    #[arg(long)]
    user_id: UserId,
    /// remit, topup, refund or payment.
    #[arg(long)]
    action: Action,
    /// Whole rupiah, at least 1.
    #[arg(long, value_parser = parse_amount)]
    amount: Amount,
    /// The marketplace transaction this mutation belongs to.
    #[arg(long)]
    transaction_id: Option<i64>,
    /// The marketplace's transaction number (1 to 32 visible ASCII characters).
    #[arg(long, value_parser = parse_transaction_no)]
    transaction_no: Option<TransactionNo>,
    /// A note shown with the mutation in the v2 history (1 to 500 characters).
    #[arg(long, value_parser = parse_note)]
    note: Option<Note>,
    /// Posting the same key again applies once and prints the first result.
    #[arg(long)]
    idempotency_key: String,
}

#[derive(Debug, Subcommand)]
pub enum WithdrawalCommand {
    /// List withdrawals, oldest first.
    List {
        /// pending, processed or cancelled (all when absent).
        #[arg(long)]
        state: Option<WithdrawalState>,
        #[arg(long, default_value_t = 1)]
        page: i64,
        #[arg(long, default_value_t = 10)]
        per_page: i64,
    },
    /// Mark a pending withdrawal as paid out.
    Process { id: WithdrawalId },
    /// Cancel a pending withdrawal and restore its money to the wallet.
    Cancel { id: WithdrawalId },
    /// Print the bulk-transfer CSV of the withdrawals in a state (reference
    /// #C<id>, bank name, account number, account name, amount).
    Export {
        /// pending (the default), processed or cancelled.
        #[arg(long, default_value = "pending")]
        state: WithdrawalState,
    },
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Check every ledger invariant; exit code 3 when any is violated.
    Verify,
}

fn parse_amount(text: &str) -> Result<Amount, String> {
    Amount::parse_digits(text).ok_or_else(|| "expected a whole number of rupiah ≥ 1".to_owned())
}

fn parse_transaction_no(text: &str) -> Result<TransactionNo, String> {
    TransactionNo::parse(text.to_owned()).map_err(str::to_owned)
}

fn parse_note(text: &str) -> Result<Note, String> {
    Note::parse(text.to_owned()).map_err(str::to_owned)
}

/// Runs the command; the exit code says how it went.
pub async fn run(cli: Cli, mut config: Config) -> ExitCode {
    let command = cli.command.unwrap_or(Command::Serve { addr: None });
    let result = match command {
        Command::Serve { addr } => {
            if let Some(addr) = addr {
                config.addr = addr;
            }
            serve(config).await
        }
        command => operate(command, config).await,
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> Result<ExitCode, String> {
    let database = Database::open(&config, config.migrate)
        .await
        .map_err(|e| e.to_string())?;
    let served = async {
        // Requests get a pool of their own, every wait in it bounded below
        // the request timeout; start-up work (migrations, the seed) had none.
        let candidates = crate::database::primary_candidates(&config)
            .ok()
            .filter(|c| c.len() > 1);
        let pool = match candidates {
            Some(candidates) => crate::pool::serving_on_candidates(candidates, &config).await,
            None => {
                let options = database.pool.connect_options().as_ref().clone();
                crate::pool::serving(options, &config).await
            }
        }
        .map_err(|e| format!("cannot reach the database: {e}"))?;
        let app = Application::build(&config, pool.clone())
            .await
            .map_err(|e| e.to_string())?;
        let addr = app.local_addr().map_err(|source| {
            StartError::Bind {
                addr: config.addr,
                source,
            }
            .to_string()
        })?;
        tracing::info!(%addr, operator_api = config.operator_token.is_some(), "dompet is serving");
        let served = app
            .run_until(shutdown_signal())
            .await
            .map_err(|source| StartError::Bind { addr, source }.to_string());
        pool.close().await;
        served
    }
    .await;
    database.close().await;
    served?;
    Ok(ExitCode::SUCCESS)
}

async fn operate(command: Command, config: Config) -> Result<ExitCode, String> {
    if let Command::Migrate = command {
        Database::migrate_only(&config)
            .await
            .map_err(|e| e.to_string())?;
        eprintln!("migrations applied");
        return Ok(ExitCode::SUCCESS);
    }
    let database = Database::open(&config, config.migrate)
        .await
        .map_err(|e| e.to_string())?;
    let result = match command {
        Command::Migrate => {
            eprintln!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        command => {
            let dompet = Dompet::new(
                database.pool.clone(),
                config.timezone,
                config.withdrawal_fee,
            )
            .with_topup_ttl_hours(config.topup_ttl_hours);
            dispatch(command, &dompet).await
        }
    };
    database.close().await;
    // Operators read the same words on the command line as over HTTP.
    result.map_err(|e| OperatorError::from(e).message().to_owned())
}

async fn dispatch(command: Command, dompet: &Dompet) -> Result<ExitCode, ServiceError> {
    let tz = dompet.timezone();
    match command {
        // Both are handled by `run` before an operator command is dispatched.
        Command::Serve { .. } | Command::Migrate => {}
        Command::User(UserCommand::Create {
            username,
            email,
            password,
            id,
            token,
            name,
        }) => {
            let user = dompet
                .create_user(NewUser {
                    username,
                    email,
                    password,
                    id,
                    token,
                    name,
                })
                .await?;
            print(&CreatedUserJson::from(&user));
        }
        Command::User(UserCommand::Show { id }) => print(&UserJson::from(&dompet.user(id).await?)),
        Command::User(UserCommand::SetPassword { id, password }) => {
            print(&RevokedJson::from(dompet.set_password(id, password).await?));
        }
        Command::Token(TokenCommand::List { user_id }) => {
            print(&TokenListJson::new(&dompet.tokens(user_id).await?, tz));
        }
        Command::Token(TokenCommand::Revoke {
            user_id, token_id, ..
        }) => {
            let revoked = match token_id {
                Some(token_id) => dompet.revoke_token(user_id, token_id).await?,
                None => dompet.revoke_tokens(user_id).await?,
            };
            print(&RevokedJson::from(revoked));
        }
        Command::BankAccount(BankAccountCommand::Add {
            user_id,
            bank_name,
            account_number,
            account_name,
            id,
        }) => {
            let new = NewBankAccount {
                bank_name,
                account_number,
                account_name,
                id,
            };
            print(&BankAccountJson::from(
                &dompet.add_bank_account(user_id, new).await?,
            ));
        }
        Command::Mutation(MutationCommand::Post(args)) => {
            let posting = Posting {
                user_id: args.user_id,
                action: args.action,
                amount: args.amount,
                transaction_id: args.transaction_id,
                transaction_no: args.transaction_no,
                note: args.note,
                idempotency_key: args.idempotency_key,
            };
            let (Posted::Created(row) | Posted::Replayed(row)) =
                dompet.post_mutation(posting).await?;
            print(&MutationJson::new(&row, tz));
        }
        Command::Withdrawal(WithdrawalCommand::List {
            state,
            page,
            per_page,
        }) => {
            let rows = dompet
                .list_withdrawals(state, Page::new(Some(page), Some(per_page)))
                .await?;
            print(&WithdrawalListJson::new(&rows, tz));
        }
        Command::Withdrawal(WithdrawalCommand::Process { id }) => {
            print(&OperatorWithdrawalJson::new(
                &dompet.process_withdrawal(id).await?,
                tz,
            ));
        }
        Command::Withdrawal(WithdrawalCommand::Cancel { id }) => {
            print(&OperatorWithdrawalJson::new(
                &dompet.cancel_withdrawal(id).await?,
                tz,
            ));
        }
        Command::Withdrawal(WithdrawalCommand::Export { state }) => {
            finance::export(state, dompet).await?;
        }
        Command::Topup(command) => finance::topup(command, dompet).await?,
        Command::Ledger(LedgerCommand::Verify) => {
            let report = dompet.verify_ledger().await?;
            print(&LedgerReportJson::from(&report));
            if !report.ok() {
                return Ok(ExitCode::from(EXIT_VIOLATIONS));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print<T: Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("error: cannot render the result: {e}"),
    }
}
