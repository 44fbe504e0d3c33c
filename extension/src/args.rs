//! Reading a function's arguments: one helper per kind of argument, each
//! checking count, NULL and type, so no function indexes `ctx` by hand.

use rusqlite::functions::Context;
use rusqlite::types::{Value, ValueRef};

use crate::error::{ConsentError, Result};
use crate::quoting::show_value;
use crate::time::{self, UnixSeconds};

/// A function's SQL signature: its name and parameter names, the first
/// `required` of them mandatory.
#[derive(Debug)]
pub struct Signature {
    pub name: &'static str,
    pub params: &'static [&'static str],
    pub required: usize,
}

impl Signature {
    /// `consent_queue(id [, at])`
    pub fn usage(&self) -> String {
        let mut s = format!("{}(", self.name);
        for (i, p) in self.params.iter().enumerate() {
            match (i == 0, i < self.required) {
                (true, true) => s.push_str(p),
                (false, true) => s.push_str(&format!(", {p}")),
                (true, false) => s.push_str(&format!("[{p}")),
                (false, false) => s.push_str(&format!(" [, {p}")),
            }
        }
        s.push_str(&"]".repeat(self.params.len() - self.required));
        s.push(')');
        s
    }
}

/// The arguments of one call, checked against its signature.
pub struct Args<'a> {
    ctx: &'a Context<'a>,
    pub sig: &'static Signature,
}

impl<'a> Args<'a> {
    pub fn new(ctx: &'a Context<'a>, sig: &'static Signature) -> Result<Self> {
        let n = ctx.len();
        if n < sig.required || n > sig.params.len() {
            return Err(ConsentError::bad_argument(
                sig.name,
                format!(
                    "takes {}, got {n} argument{}",
                    sig.usage(),
                    if n == 1 { "" } else { "s" }
                ),
            ));
        }
        Ok(Args { ctx, sig })
    }

    pub fn function(&self) -> &'static str {
        self.sig.name
    }

    fn raw(&self, i: usize) -> ValueRef<'_> {
        if i < self.ctx.len() {
            self.ctx.get_raw(i)
        } else {
            ValueRef::Null
        }
    }

    fn null_error(&self, i: usize, what: &str) -> ConsentError {
        ConsentError::bad_argument(
            self.sig.name,
            format!(
                "{} is NULL; pass {what} ({})",
                self.sig.params[i],
                self.sig.usage()
            ),
        )
    }

    /// A customer id: any non-NULL value, compared with the billing table's id.
    pub fn customer_id(&self, i: usize) -> Result<Value> {
        match self.raw(i) {
            ValueRef::Null => Err(self.null_error(i, "the customer's id")),
            v => Ok(v.into()),
        }
    }

    /// Text that must be present.
    pub fn text(&self, i: usize, what: &str) -> Result<String> {
        match self.optional_text(i)? {
            Some(t) => Ok(t),
            None => Err(self.null_error(i, what)),
        }
    }

    /// Text, or None when absent or NULL. Numbers are taken as their text.
    pub fn optional_text(&self, i: usize) -> Result<Option<String>> {
        match self.raw(i) {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => match std::str::from_utf8(t) {
                Ok(s) => Ok(Some(s.to_owned())),
                Err(_) => Err(ConsentError::bad_argument(
                    self.sig.name,
                    format!("{} is not valid UTF-8 text", self.sig.params[i]),
                )),
            },
            ValueRef::Integer(n) => Ok(Some(n.to_string())),
            ValueRef::Real(r) => Ok(Some(r.to_string())),
            ValueRef::Blob(_) => Err(ConsentError::bad_argument(
                self.sig.name,
                format!("{} is a blob; pass text", self.sig.params[i]),
            )),
        }
    }

    /// A time: unix seconds or ISO-8601; absent or NULL means now.
    pub fn at(&self, i: usize) -> Result<UnixSeconds> {
        let parsed = match self.raw(i) {
            ValueRef::Null => return Ok(time::now()),
            ValueRef::Integer(n) => Some(n),
            ValueRef::Real(r) if r.is_finite() && r.abs() < 1e15 => Some(r.floor() as i64),
            ValueRef::Text(t) => std::str::from_utf8(t).ok().and_then(time::parse),
            _ => None,
        };
        parsed.ok_or_else(|| {
            ConsentError::bad_argument(
                self.sig.name,
                format!(
                    "{} {} is not a time; pass unix seconds or ISO-8601 such as '2026-11-29T09:30:00Z' (no offset = UTC), or NULL for now",
                    self.sig.params[i],
                    show_value(self.raw(i))
                ),
            )
        })
    }
}

impl Args<'_> {
    /// How many arguments were passed.
    pub fn len(&self) -> usize {
        self.ctx.len()
    }
}
