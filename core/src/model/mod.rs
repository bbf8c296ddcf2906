//! Plain data about one call: what was observed ([`observation`]), its content ([`content`]), its cost
//! ([`cost`]), what a vector-store query retrieved ([`retrieval`]). Nothing here decides policy or knows a wire format.

pub(crate) mod content;
pub(crate) mod cost;
pub(crate) mod observation;
pub(crate) mod retrieval;
