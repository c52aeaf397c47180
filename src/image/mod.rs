//! Images: the content-addressed store of root-filesystem archives, how they
//! get there (fetch), how they are judged (validate) and unpacked (unpack).

pub mod fsat;
pub mod store;
pub mod unpack;
pub mod validate;
pub mod violation;

// fetch: sources, the S3 and HTTP clients, the part engine, gc.
pub mod download;
pub mod fetch;
pub mod gc;
pub mod http;
pub mod remote;
pub mod s3;
pub mod source;
pub mod transport;
