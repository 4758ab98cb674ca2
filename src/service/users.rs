//! Users, their wallets and bank accounts.

use super::{
    passwords::Lane,
    text::{self, limits},
    tokens, Dompet, ServiceError,
};
use crate::{
    domain::{BankAccount, BankAccountId, User, UserId, WalletId},
    store::{self, bank_accounts, users, wallets},
};

const TOKEN_LEN: usize = 32;
/// Imported ids stop here, leaving the identity sequences room to go on:
/// an import at i64::MAX would make every later insert fail.
const MAX_IMPORTED_ID: i64 = i64::MAX / 2;

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub password: String,
    /// Given when importing an existing user.
    pub id: Option<UserId>,
    pub token: Option<String>,
    /// The display name logins answer with; the username when absent.
    pub name: Option<String>,
}

/// A freshly created user, with the only copy of the API token dompet will
/// ever show.
#[derive(Debug, Clone)]
pub struct CreatedUser {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub deposit_id: WalletId,
    pub token: String,
}

#[derive(Debug, Clone)]
pub struct NewBankAccount {
    pub bank_name: String,
    pub account_number: String,
    pub account_name: String,
    pub id: Option<BankAccountId>,
}

impl NewUser {
    fn validate(&self) -> Result<(), ServiceError> {
        let invalid = |m: &str| Err(ServiceError::Invalid(m.to_owned()));
        text::required("username", &self.username, limits::USERNAME)?;
        text::checked("email", &self.email, limits::EMAIL)?;
        if !self.email.contains('@') {
            return invalid("email must be an address of at most 254 characters");
        }
        check_password(&self.password)?;
        if let Some(name) = &self.name {
            text::required("name", name, limits::USERNAME)?;
        }
        if matches!(self.id, Some(id) if !(1..=MAX_IMPORTED_ID).contains(&id.get())) {
            return invalid("id must be between 1 and 4611686018427387903");
        }
        if let Some(token) = &self.token {
            if token.len() < 20
                || token.len() > 128
                || !token.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return invalid("token must be 20 to 128 characters of [A-Za-z0-9]");
            }
        }
        Ok(())
    }
}

/// A password an operator may set: 8 to 1024 characters, no NUL byte.
pub(super) fn check_password(password: &str) -> Result<(), ServiceError> {
    text::checked_secret("password", password, limits::PASSWORD)?;
    if password.chars().count() < limits::PASSWORD_MIN {
        return Err(ServiceError::Invalid(
            "password must be 8 to 1024 characters".into(),
        ));
    }
    Ok(())
}

/// Unique violations on user import, named for the operator.
fn user_conflict(err: ServiceError) -> ServiceError {
    let what = match err.constraint() {
        Some("users_pkey") => "a user with this id already exists",
        Some("users_username_key") => "this username is taken",
        Some("users_email_key" | "users_email_lower_key") => "this email is taken",
        Some("tokens_token_sha256_key") => "this token belongs to another user",
        _ => return err,
    };
    ServiceError::Conflict(what.to_owned())
}

impl Dompet {
    #[tracing::instrument(name = "service.create_user", skip_all)]
    pub async fn create_user(&self, new: NewUser) -> Result<CreatedUser, ServiceError> {
        new.validate()?;
        let token = new
            .token
            .clone()
            .unwrap_or_else(|| tokens::generate_token(TOKEN_LEN));
        let password_hash = self
            .passwords
            .hash(Lane::Anonymous, new.password.clone())
            .await?;
        let mut tx = crate::store::begin(&self.pool).await?;
        let inserted = async {
            let id = users::insert(
                &mut tx,
                users::NewUser {
                    id: new.id,
                    username: &new.username,
                    email: &new.email,
                    password_hash: &password_hash,
                    name: new.name.as_deref(),
                },
            )
            .await?;
            // The user's first token, one of the ten like any login's.
            tokens::issue_in_tx(&mut tx, id, &token).await?;
            let deposit_id = wallets::insert(&mut tx, id).await?;
            Ok::<_, ServiceError>((id, deposit_id))
        }
        .await;
        let (id, deposit_id) = inserted.map_err(user_conflict)?;
        tx.commit().await?;
        tracing::info!(user_id = %id, "user created");
        Ok(CreatedUser {
            id,
            username: new.username,
            email: new.email,
            deposit_id,
            token,
        })
    }

    pub async fn user(&self, id: UserId) -> Result<User, ServiceError> {
        let mut tx = crate::store::begin(&self.pool).await?;
        let user = users::find(&mut tx, id).await?;
        tx.commit().await?;
        user.ok_or(ServiceError::UserNotFound)
    }

    pub async fn add_bank_account(
        &self,
        user_id: UserId,
        new: NewBankAccount,
    ) -> Result<BankAccount, ServiceError> {
        for (field, value) in [
            ("bank_name", &new.bank_name),
            ("account_number", &new.account_number),
            ("account_name", &new.account_name),
        ] {
            text::required(field, value, limits::BANK_FIELD)?;
        }
        if matches!(new.id, Some(id) if !(1..=MAX_IMPORTED_ID).contains(&id.get())) {
            return Err(ServiceError::Invalid(
                "id must be between 1 and 4611686018427387903".into(),
            ));
        }
        let mut tx = crate::store::begin(&self.pool).await?;
        let account = bank_accounts::NewBankAccount {
            id: new.id,
            user_id,
            bank_name: &new.bank_name,
            account_number: &new.account_number,
            account_name: &new.account_name,
        };
        let account = bank_accounts::insert(&mut tx, account).await.map_err(|e| {
            match store::violated_constraint(&e) {
                Some("bank_accounts_user_id_fkey") => ServiceError::UserNotFound,
                Some("bank_accounts_pkey") => {
                    ServiceError::Conflict("a bank account with this id already exists".into())
                }
                _ => e.into(),
            }
        })?;
        tx.commit().await?;
        Ok(account)
    }
}
