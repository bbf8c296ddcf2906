//! Plain data about one call: what was observed ([`observation`]), its content ([`content`]), its cost
//! ([`cost`]). Nothing here decides policy or knows a wire format.

pub mod content;
pub mod cost;
pub mod observation;
