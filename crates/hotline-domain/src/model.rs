//! The hotline's vocabulary: categories, states, roles and the small enums that travel
//! with a work order. Every enum has one stable lowercase name used in storage, config
//! files and events; the proto enums map onto these at the edge.

use serde::{Deserialize, Serialize};

/// Declares a fieldless enum with a stable snake_case name for each variant,
/// `as_str`, `FromStr`, `Display` and `ALL`.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable name used in storage, config and events.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::error::UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(crate::error::UnknownName { kind: stringify!($name), value: s.to_owned() }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use named_enum;

named_enum!(
    /// What the caller wants. Every call gets exactly one.
    Category {
        Consultation => "consultation",
        LegalAid => "legal_aid",
        Mediation => "mediation",
        LegalEducation => "legal_education",
    }
);

named_enum!(
    /// The subject of a call; refines the category.
    Subcategory {
        MarriageFamily => "marriage_family",
        Inheritance => "inheritance",
        LabourWages => "labour_wages",
        LandContract => "land_contract",
        NeighbourDispute => "neighbour_dispute",
        DebtContract => "debt_contract",
        TrafficAccident => "traffic_accident",
        Consumer => "consumer",
        CriminalMatter => "criminal_matter",
        AdministrativeMatter => "administrative_matter",
        Other => "other",
    }
);

named_enum!(
    Urgency {
        Normal => "normal",
        Urgent => "urgent",
    }
);

named_enum!(
    /// How the matter reached the hotline.
    Channel {
        Phone => "phone",
        Web => "web",
        Wechat => "wechat",
        WalkIn => "walk_in",
    }
);

named_enum!(
    /// Where a work order stands in its lifecycle.
    State {
        /// 登记: recorded at the seat, not yet sent anywhere.
        Registered => "registered",
        /// 待签收: sent to a handling unit, waiting for it to accept.
        AwaitingSignOff => "awaiting_sign_off",
        /// 退回待审: the unit sent it back; a dispatcher decides.
        ReturnUnderReview => "return_under_review",
        /// 办理中
        InProgress => "in_progress",
        /// The handler asked for more time; a dispatcher decides.
        ExtensionUnderReview => "extension_under_review",
        /// The handler replied; a dispatcher checks the reply.
        ReplyUnderReview => "reply_under_review",
        /// 待回访
        AwaitingCallback => "awaiting_callback",
        /// 重办: the caller was dissatisfied; a dispatcher passes it on again.
        Redo => "redo",
        Closed => "closed",
        /// Cancelled as a duplicate or invalid; terminal except for archiving.
        Cancelled => "cancelled",
        Archived => "archived",
    }
);

impl State {
    /// Open orders still need someone to act; closed, cancelled and archived do not.
    pub fn is_open(self) -> bool {
        !matches!(self, State::Closed | State::Cancelled | State::Archived)
    }
}

named_enum!(
    /// What a user is, which decides the actions open to them.
    Role {
        SeatAgent => "seat_agent",
        Dispatcher => "dispatcher",
        CallbackAgent => "callback_agent",
        Counsel => "counsel",
        StationLead => "station_lead",
        CountyManager => "county_manager",
        CityAdmin => "city_admin",
        /// The telephony layer (CTI) service account.
        Telephony => "telephony",
        /// The server itself: sweeper, archiver.
        System => "system",
    }
);

named_enum!(
    /// Why a handling unit sends an order back.
    ReturnReason {
        WrongLocality => "wrong_locality",
        NotOurRemit => "not_our_remit",
        Duplicate => "duplicate",
    }
);

named_enum!(
    CancelReason {
        Duplicate => "duplicate",
        Invalid => "invalid",
    }
);

named_enum!(
    Satisfaction {
        Satisfied => "satisfied",
        BasicallySatisfied => "basically_satisfied",
        Dissatisfied => "dissatisfied",
    }
);

named_enum!(
    CallbackMethod {
        Phone => "phone",
        Sms => "sms",
        Visit => "visit",
    }
);

named_enum!(
    /// Level of the administrative tree.
    UnitLevel {
        City => "city",
        County => "county",
        Township => "township",
        Village => "village",
    }
);

named_enum!(
    /// The kind of deadline an order is running against.
    DeadlineKind {
        Dispatch => "dispatch",
        SignOff => "sign_off",
        Reply => "reply",
        Callback => "callback",
        Redo => "redo",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in State::ALL {
            assert_eq!(s.as_str().parse::<State>().unwrap(), *s);
        }
        for c in Subcategory::ALL {
            assert_eq!(c.to_string().parse::<Subcategory>().unwrap(), *c);
        }
        let err = "bogus".parse::<Category>().unwrap_err();
        assert_eq!(err.kind, "Category");
    }

    #[test]
    fn serde_uses_the_stable_names() {
        assert_eq!(serde_json::to_string(&Role::StationLead).unwrap(), "\"station_lead\"");
        assert_eq!(serde_json::from_str::<Category>("\"legal_aid\"").unwrap(), Category::LegalAid);
    }
}
