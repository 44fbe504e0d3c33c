//! The errors the SQL functions raise. Each message names the function, the
//! value at fault and what to do next, because a DBA at an sqlite3 prompt
//! sees nothing else.

use crate::quoting::Quoted;

/// A misuse of a consent function, or a failure of the database under it.
#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    #[error("{function}: consent is not set up in this database; run consent_init(table, id_column, email_column, mobile_column [, name_column [, language_column]]) first")]
    NotSetUp { function: &'static str },

    #[error("{function}: no customer with id {id} in table {table}; pass an id from {table}.{id_column}")]
    UnknownCustomer {
        function: &'static str,
        id: String,
        table: Quoted,
        id_column: Quoted,
    },

    #[error("{function}: the information text is not set, so customer {id} cannot be queued; set it first with consent_setting('info_text', 'your text')")]
    InfoTextUnset { function: &'static str, id: String },

    #[error("{function}: customer {id} is '{status}'; {what}")]
    IllegalTransition {
        function: &'static str,
        id: String,
        status: &'static str,
        what: &'static str,
    },

    #[error("{function}: customer {id} kept changing under this call (another connection is writing); try again")]
    KeptChanging { function: &'static str, id: String },

    #[error("{function}: {problem}")]
    BadArgument {
        function: &'static str,
        problem: String,
    },

    #[error("{function}: table {table} recorded by consent_init no longer exists (renamed or dropped?); run consent_init again with the customer table's current name")]
    TableGone {
        function: &'static str,
        table: Quoted,
    },

    #[error("{function}: column {column} of table {table} recorded by consent_init no longer exists (renamed or dropped?); run consent_init again with the current column names")]
    ColumnGone {
        function: &'static str,
        table: Quoted,
        column: Quoted,
    },

    #[error("{function}: {source}")]
    Sqlite {
        function: &'static str,
        #[source]
        source: rusqlite::Error,
    },
}

impl ConsentError {
    pub fn bad_argument(function: &'static str, problem: impl Into<String>) -> Self {
        ConsentError::BadArgument {
            function,
            problem: problem.into(),
        }
    }

    /// Converts to the error rusqlite hands to SQLite. Failures of SQLite
    /// itself keep their result code (so SQLITE_BUSY stays retryable), with
    /// the function's name in front of the message.
    pub fn into_sqlite(self) -> rusqlite::Error {
        match self {
            ConsentError::Sqlite {
                function,
                source: rusqlite::Error::SqliteFailure(code, message),
            } => {
                let message = match message {
                    Some(m) => format!("{function}: {m}"),
                    None => format!("{function}: {code}"),
                };
                rusqlite::Error::SqliteFailure(code, Some(message))
            }
            other => rusqlite::Error::UserFunctionError(Box::new(other)),
        }
    }
}

/// Attaches the function's name to an error from rusqlite.
pub trait InFunction<T> {
    fn in_function(self, function: &'static str) -> Result<T, ConsentError>;
}

impl<T> InFunction<T> for Result<T, rusqlite::Error> {
    fn in_function(self, function: &'static str) -> Result<T, ConsentError> {
        self.map_err(|source| ConsentError::Sqlite { function, source })
    }
}

pub type Result<T, E = ConsentError> = std::result::Result<T, E>;
