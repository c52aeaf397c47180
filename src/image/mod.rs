//! Images: the content-addressed store of root-filesystem archives, how they
//! get there (fetch), how they are judged (validate) and unpacked (unpack).

pub mod store;
pub mod unpack;
pub mod validate;
