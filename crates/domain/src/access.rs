//! Who is asking, and whether they may touch a chat.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::{Party, chat::Chat, error::DomainError};

/// The two kinds of user a token can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    Worker,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Worker => "worker",
        }
    }
}

/// An authenticated user, as the verified token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: String,
    pub role: Role,
    pub name: Option<String>,
}

impl Chat {
    /// The participant in seat `role`.
    pub fn seat(&self, role: Role) -> &Party {
        match role {
            Role::Customer => &self.customer,
            Role::Worker => &self.worker,
        }
    }

    /// A customer may use only chats of bookings where they are the customer; a worker only
    /// chats of bookings assigned to them. The role in the token must match the seat.
    pub fn authorize(&self, who: &Principal) -> Result<(), DomainError> {
        if self.seat(who.role).id == who.user_id {
            Ok(())
        } else {
            Err(DomainError::Forbidden)
        }
    }

    /// The display name of a participant, falling back to what the token says.
    pub fn display_name(&self, who: &Principal) -> String {
        let seat = self.seat(who.role);
        if !seat.name.is_empty() {
            seat.name.clone()
        } else {
            who.name.clone().unwrap_or_else(|| who.user_id.clone())
        }
    }

    /// The other participant's user id.
    pub fn counterpart_of(&self, who: &Principal) -> &str {
        match who.role {
            Role::Customer => &self.worker.id,
            Role::Worker => &self.customer.id,
        }
    }
}
