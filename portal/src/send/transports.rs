//! The transports `sync` sends through, as `consent.toml` configures them:
//! e-mail over SMTP or into `.eml` files, SMS through an HTTP gateway or
//! into JSON files. A section left out means that channel is not used.

use super::email::{self, EmailMessage, Mailer};
use super::sms::{self, SmsSender};
use super::{Channel, Credentials, Job, Outcomes, SendError, Texts};
use crate::config::Config;

#[derive(Debug)]
pub struct Transports {
    mailer: Option<Mailer>,
    sms: Option<SmsSender>,
}

impl Transports {
    /// The transports of a configuration, with the logins from the
    /// environment: CONSENT_SMTP_USERNAME and CONSENT_SMTP_PASSWORD,
    /// CONSENT_SMS_USERNAME and CONSENT_SMS_PASSWORD (each pair both or
    /// neither).
    pub fn from_config(config: &Config) -> Result<Transports, SendError> {
        let mailer = match &config.email {
            Some(email) => {
                let login = Credentials::from_env(
                    Channel::Email,
                    email::USERNAME_VAR,
                    email::PASSWORD_VAR,
                )?;
                Some(Mailer::new(email, &config.dir, login)?)
            }
            None => None,
        };
        let sms = match &config.sms {
            Some(sms) => {
                let login =
                    Credentials::from_env(Channel::Sms, sms::USERNAME_VAR, sms::PASSWORD_VAR)?;
                Some(SmsSender::new(sms, &config.dir, login)?)
            }
            None => None,
        };
        Ok(Transports { mailer, sms })
    }

    /// Sends the e-mails, reporting each one to `outcomes` as it is
    /// accepted or refused (see [`Mailer::send_all`]).
    pub fn send_emails(&self, texts: &Texts, jobs: &[Job], outcomes: &mut dyn Outcomes) {
        let Some(mailer) = &self.mailer else {
            for job in jobs {
                outcomes.outcome(job.request_id, Err(not_configured(Channel::Email)));
            }
            outcomes.commit();
            return;
        };
        let from_domain = mailer.from_domain().to_owned();
        let messages = jobs
            .iter()
            .map(|job| email::compose(texts, job, &from_domain));
        mailer.send_all(messages, outcomes);
    }

    /// Sends messages composed elsewhere (the notices after a decision),
    /// reporting each to `outcomes` as [`Transports::send_emails`] does,
    /// under the id each message carries. `compose` is given the domain of
    /// `email.from`, for the Message-ID.
    pub fn send_composed_emails(
        &self,
        compose: impl Fn(&str) -> Vec<EmailMessage>,
        outcomes: &mut dyn Outcomes,
    ) {
        let Some(mailer) = &self.mailer else {
            for message in compose("localhost") {
                outcomes.outcome(message.request_id, Err(not_configured(Channel::Email)));
            }
            outcomes.commit();
            return;
        };
        mailer.send_all(compose(mailer.from_domain()), outcomes);
    }

    /// Sends one SMS of given words; returns the number of segments.
    pub fn send_sms_text(&self, to: &str, message: &str) -> Result<u32, SendError> {
        let sender = self
            .sms
            .as_ref()
            .ok_or_else(|| not_configured(Channel::Sms))?;
        sender
            .send(to, message)
            .map(|segments| u32::try_from(segments.count).unwrap_or(u32::MAX))
    }

    /// Sends one SMS; returns the number of segments it took.
    pub fn send_sms(&self, texts: &Texts, job: &Job) -> Result<u32, SendError> {
        let sender = self
            .sms
            .as_ref()
            .ok_or_else(|| not_configured(Channel::Sms))?;
        let message = sms::compose(job.language, &texts.business_name, &job.link);
        sender
            .send(&job.to, &message)
            .map(|segments| u32::try_from(segments.count).unwrap_or(u32::MAX))
    }
}

fn not_configured(channel: Channel) -> SendError {
    let section = match channel {
        Channel::Email => "[email]",
        Channel::Sms => "[sms]",
    };
    SendError::config(channel, section, "is not in consent.toml".to_owned())
}
