//! Errors of the pure domain. Each says what was wrong in words a client can act on;
//! the server maps them to gRPC codes in one place.

use crate::lifecycle::Action;
use crate::model::{Role, State};

/// A name that is not one of an enum's stable names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`")]
pub struct UnknownName {
    pub kind: &'static str,
    pub value: String,
}

/// Bad input for one field. `field` is the name the client used (proto field path).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }

    /// The same error reported under a parent path, e.g. `caller` + `phone` -> `caller.phone`.
    pub fn within(mut self, parent: &str) -> Self {
        self.field = format!("{parent}.{}", self.field);
        self
    }
}

/// Why the lifecycle refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The action is not possible in the order's current state.
    #[error("cannot {action} a work order that is {state}")]
    IllegalTransition { state: State, action: Action },
    /// The actor's role may not take this action at all.
    #[error("a {role} may not {action} a work order")]
    RoleNotAllowed { role: Role, action: Action },
    /// The command's data is inconsistent with the order (names the field).
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// The actor's role may not register (create) work orders.
    #[error("a {role} may not register a work order")]
    CannotRegister { role: Role },
    /// The action fits the state but a rule of timing or history forbids it now, e.g. an
    /// extension asked after the reply deadline. Maps to FAILED_PRECONDITION.
    #[error("{0}")]
    Precondition(String),
}
