//! The hotline.v1 gRPC API, generated from `proto/hotline/v1/*.proto`.

pub mod v1 {
    tonic::include_proto!("hotline.v1");

    /// The encoded file descriptor set, for gRPC server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("hotline_descriptor");
}
