//! The Secret Service's read path straight on D-Bus: one connection, a `plain` session, one
//! search, the attributes of every item found in one pipelined batch, and one `GetSecrets`.
//!
//! `keyring-core`'s Secret Service store opens a second connection with a Diffie-Hellman
//! session, and reads each item the search found in two sequential round trips (is it locked,
//! then its attributes), so a lookup cost grew with the number of items. Here every call whose
//! answer the next one does not need is sent before the first answer is read: whatever the
//! keyring holds, a lookup waits for six answers: connecting, the session and the default
//! collection, whether it is locked, the search, the attributes, the secret.
//!
//! The session is `plain`: the secret crosses the user's own session bus unencrypted, as it then
//! lies in this process's memory anyway. The `dh-ietf1024` session libsecret opens by default
//! hides it only from a monitor of that bus, which (being the same user) could as well call
//! `GetSecrets` itself. Writes still go through `keyring-core`, with its encrypted session.
//!
//! Anything this path does not expect (a locked item, an error reply) makes the caller fall back
//! to `keyring-core`, which unlocks, prompts or says why as before.

use std::collections::HashMap;
use std::num::NonZeroU32;

use zbus::Message;
use zbus::blocking::{Connection, MessageIterator};
use zbus::message::Type as MessageType;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};

const DESTINATION: &str = "org.freedesktop.secrets";
const SERVICE_PATH: &str = "/org/freedesktop/secrets";
const SERVICE: &str = "org.freedesktop.Secret.Service";
const COLLECTION: &str = "org.freedesktop.Secret.Collection";
const ITEM: &str = "org.freedesktop.Secret.Item";
const PROPERTIES: &str = "org.freedesktop.DBus.Properties";

/// A connection to the Secret Service with an open `plain` session.
#[derive(Debug)]
pub(crate) struct SecretService {
    connection: Connection,
    session: OwnedObjectPath,
}

/// What the probe found: the service, and whether its default collection is locked.
pub(crate) struct Probed {
    pub(crate) service: SecretService,
    pub(crate) locked: bool,
}

/// Why the probe failed, with the platform's error as `secret-service` shows it (so messages
/// read as they did when the probe went through that crate).
pub(crate) enum ProbeError {
    /// No bus, or no Secret Service on it.
    Unreachable(secret_service::Error),
    /// No collection has the `default` alias.
    NoDefaultCollection(secret_service::Error),
    /// The default collection's `Locked` property could not be read.
    LockedUnknown(secret_service::Error),
}

/// One item of a search: its object path and its attributes.
pub(crate) struct Found {
    pub(crate) path: String,
    pub(crate) attributes: HashMap<String, String>,
}

impl SecretService {
    /// Connects, opens a `plain` session and finds the default collection, then asks whether it
    /// is locked: two waits after the bus's `Hello`.
    pub(crate) fn probe() -> Result<Probed, ProbeError> {
        let connection =
            Connection::session().map_err(|err| ProbeError::Unreachable(connection_error(err)))?;
        let mut answers = calls(
            &connection,
            vec![
                service_call("OpenSession", &("plain", Value::from(""))),
                service_call("ReadAlias", &("default",)),
            ],
        )
        .map_err(|err| ProbeError::Unreachable(connection_error(err)))?
        .into_iter();
        let session = answers
            .next()
            .expect("one answer per call")
            .and_then(|reply| reply.body().deserialize::<(OwnedValue, OwnedObjectPath)>())
            .map_err(|err| ProbeError::Unreachable(connection_error(err)))?
            .1;
        let collection = answers
            .next()
            .expect("one answer per call")
            .and_then(|reply| reply.body().deserialize::<OwnedObjectPath>())
            .map_err(|err| ProbeError::NoDefaultCollection(err.into()))?;
        if collection.as_str() == "/" {
            return Err(ProbeError::NoDefaultCollection(
                secret_service::Error::NoResult,
            ));
        }
        let locked = calls(
            &connection,
            vec![property_call(collection.as_str(), COLLECTION, "Locked")],
        )
        .and_then(single)
        .and_then(|reply| {
            let value = reply.body().deserialize::<OwnedValue>()?;
            Ok(bool::try_from(value)?)
        })
        .map_err(|err| ProbeError::LockedUnknown(err.into()))?;
        Ok(Probed {
            service: Self {
                connection,
                session,
            },
            locked,
        })
    }

    /// Every item with these attributes and its attributes, in the order the service gives
    /// them; `None` when some are locked (unlocking them may need a prompt, which this path
    /// does not show). Two round trips, however many items there are.
    pub(crate) fn search(
        &self,
        attributes: &HashMap<&str, &str>,
    ) -> Result<Option<Vec<Found>>, String> {
        let (unlocked, locked) = calls(
            &self.connection,
            vec![service_call("SearchItems", &(attributes,))],
        )
        .and_then(single)
        .and_then(|reply| {
            reply
                .body()
                .deserialize::<(Vec<OwnedObjectPath>, Vec<OwnedObjectPath>)>()
        })
        .map_err(|err| shown(&err))?;
        if !locked.is_empty() {
            return Ok(None);
        }
        let requests = unlocked
            .iter()
            .map(|path| property_call(path.as_str(), ITEM, "Attributes"))
            .collect();
        let answers = calls(&self.connection, requests).map_err(|err| shown(&err))?;
        let mut found = Vec::with_capacity(unlocked.len());
        for (path, answer) in unlocked.into_iter().zip(answers) {
            let attributes = answer
                .and_then(|reply| {
                    let value = reply.body().deserialize::<OwnedValue>()?;
                    Ok(HashMap::<String, String>::try_from(value)?)
                })
                .map_err(|err| shown(&err))?;
            found.push(Found {
                path: path.as_str().to_owned(),
                attributes,
            });
        }
        Ok(Some(found))
    }

    /// The secrets of these items, by path, in one round trip; an item the service did not
    /// answer for (gone since the search) is missing from the map.
    pub(crate) fn secrets(&self, paths: &[String]) -> Result<HashMap<String, Vec<u8>>, String> {
        /// Each item's secret: its session, parameters, value and content type.
        type Secrets = HashMap<OwnedObjectPath, (OwnedObjectPath, Vec<u8>, Vec<u8>, String)>;
        let items = paths
            .iter()
            .map(|path| OwnedObjectPath::try_from(path.as_str()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| shown(&err))?;
        let secrets = calls(
            &self.connection,
            vec![service_call("GetSecrets", &(items, &self.session))],
        )
        .and_then(single)
        .and_then(|reply| reply.body().deserialize::<Secrets>())
        .map_err(|err| shown(&err))?;
        Ok(secrets
            .into_iter()
            .map(|(path, (_session, _parameters, value, _content_type))| {
                (path.as_str().to_owned(), value)
            })
            .collect())
    }
}

/// A method call on the Secret Service object, not yet sent.
fn service_call<B>(method: &'static str, body: &B) -> zbus::Result<Message>
where
    B: zbus::export::serde::Serialize + zbus::zvariant::DynamicType,
{
    Message::method_call(SERVICE_PATH, method)?
        .destination(DESTINATION)?
        .interface(SERVICE)?
        .build(body)
}

/// A `Properties.Get` of one property of an object of the service, not yet sent.
fn property_call(path: &str, interface: &str, property: &str) -> zbus::Result<Message> {
    Message::method_call(path.to_owned(), "Get")?
        .destination(DESTINATION)?
        .interface(PROPERTIES)?
        .build(&(interface, property))
}

/// Sends every call before reading any answer, then collects the answers, in the calls' order;
/// an error reply is that call's error. The outer error is one of the connection (or of a call
/// that could not be built), which answers none of them.
fn calls(
    connection: &Connection,
    requests: Vec<zbus::Result<Message>>,
) -> zbus::Result<Vec<zbus::Result<Message>>> {
    let requests = requests.into_iter().collect::<zbus::Result<Vec<_>>>()?;
    // Subscribed before the first call goes out, so no answer can come before it listens.
    let mut incoming = MessageIterator::from(connection);
    let mut pending: HashMap<NonZeroU32, usize> = HashMap::with_capacity(requests.len());
    for (at, request) in requests.iter().enumerate() {
        pending.insert(request.primary_header().serial_num(), at);
        connection.send(request)?;
    }
    let mut answers: Vec<Option<zbus::Result<Message>>> = requests.iter().map(|_| None).collect();
    while !pending.is_empty() {
        let message = incoming
            .next()
            .ok_or_else(|| zbus::Error::Failure("the bus closed before answering".to_owned()))??;
        let Some(at) = message
            .header()
            .reply_serial()
            .and_then(|serial| pending.remove(&serial))
        else {
            continue;
        };
        answers[at] = Some(match message.message_type() {
            MessageType::Error => Err(zbus::Error::from(message)),
            _ => Ok(message),
        });
    }
    Ok(answers
        .into_iter()
        .map(|answer| answer.expect("every call was answered"))
        .collect())
}

/// The answer of a batch of one call.
fn single(answers: Vec<zbus::Result<Message>>) -> zbus::Result<Message> {
    answers.into_iter().next().expect("one answer per call")
}

/// A connection's error as `secret-service` says it (`util::handle_conn_error`): no bus, or no
/// service on it, is "unavailable".
fn connection_error(err: zbus::Error) -> secret_service::Error {
    match err {
        zbus::Error::InterfaceNotFound | zbus::Error::Address(_) => {
            secret_service::Error::Unavailable
        }
        zbus::Error::InputOutput(io) if io.kind() == std::io::ErrorKind::NotFound => {
            secret_service::Error::Unavailable
        }
        err => secret_service::Error::Zbus(err),
    }
}

/// A D-Bus error in words, for the debug log of a fallback: its text comes from another
/// process, so control characters are escaped.
fn shown(err: &dyn std::fmt::Display) -> String {
    auth_core::escape_control(&err.to_string()).into_owned()
}
