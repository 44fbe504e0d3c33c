//! The courier `sync` sends through: the configured e-mail and SMS
//! transports (SMTP or `.eml` files; an HTTP gateway or JSON files).

use std::collections::HashMap;

use crate::config::Config;
use crate::deliver::{
    AfterFailure, Courier, EmailJob, EmailLog, MessageTexts, SendFailure, SmsJob,
};
use crate::send::email::{self, Compose, Mailer, Outcomes};
use crate::send::sms::{self, SmsSender};
use crate::send::{ErrorClass, SendError};

pub struct Transports {
    mailer: Option<Mailer>,
    sms: Option<SmsSender>,
}

impl Transports {
    /// The transports `consent.toml` configures; a section left out means
    /// that channel is not used.
    pub fn from_config(config: &Config) -> Result<Transports, SendError> {
        Ok(Transports {
            mailer: config
                .email
                .as_ref()
                .map(|e| Mailer::from_config(e, &config.dir))
                .transpose()?,
            sms: config
                .sms
                .as_ref()
                .map(|s| SmsSender::from_config(s, &config.dir))
                .transpose()?,
        })
    }
}

fn failure(error: &SendError, texts: &MessageTexts) -> SendFailure {
    SendFailure {
        reason: error.reason(texts.language),
        next: match error.class() {
            ErrorClass::Permanent => AfterFailure::Error,
            ErrorClass::Transient => AfterFailure::Retry,
            ErrorClass::Setup => AfterFailure::Stop,
        },
    }
}

fn not_configured(section: &str) -> SendFailure {
    SendFailure {
        reason: format!("consent.toml has no [{section}] section"),
        next: AfterFailure::Stop,
    }
}

/// The mailer's outcomes, by request id, handed on as the jobs they were.
struct ByJob<'a> {
    jobs: HashMap<i64, &'a EmailJob>,
    texts: &'a MessageTexts,
    log: &'a mut dyn EmailLog,
}

impl Outcomes for ByJob<'_> {
    fn outcome(&mut self, request_id: i64, result: Result<(), SendError>) {
        if let Some(job) = self.jobs.get(&request_id) {
            self.log
                .outcome(job, result.map_err(|e| failure(&e, self.texts)));
        }
    }

    fn commit(&mut self) {
        self.log.commit();
    }
}

impl Courier for Transports {
    fn send_emails(&mut self, texts: &MessageTexts, jobs: Vec<EmailJob>, log: &mut dyn EmailLog) {
        let Some(mailer) = &self.mailer else {
            for job in &jobs {
                log.outcome(job, Err(not_configured("email")));
            }
            log.commit();
            return;
        };
        let from_domain = mailer.from_domain().to_owned();
        let messages: Vec<_> = jobs
            .iter()
            .map(|job| {
                email::compose(&Compose {
                    language: texts.language,
                    business_name: &texts.business_name,
                    link: &job.link,
                    expiry_days: texts.expiry_days,
                    request_id: job.request_id,
                    page_id: &job.page_id,
                    from_domain: &from_domain,
                    to: &job.to,
                })
            })
            .collect();
        let by_job = ByJob {
            jobs: jobs.iter().map(|j| (j.request_id, j)).collect(),
            texts,
            log,
        };
        mailer.send_all(messages, by_job);
    }

    fn send_sms(&mut self, texts: &MessageTexts, job: &SmsJob) -> Result<u32, SendFailure> {
        let sender = self.sms.as_ref().ok_or_else(|| not_configured("sms"))?;
        let message = sms::compose(texts.language, &texts.business_name, &job.link);
        sender
            .send(&job.to, &message)
            .map(|segments| u32::try_from(segments.count).unwrap_or(u32::MAX))
            .map_err(|e| failure(&e, texts))
    }
}
