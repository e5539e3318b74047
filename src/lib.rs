//! `takedown`: a gRPC notice-and-takedown service.
pub mod pb {
    //! The generated protobuf messages and gRPC services of `takedown.v1`.
    #![allow(clippy::all)]
    tonic::include_proto!("takedown.v1");

    /// The encoded descriptor set of every `takedown.v1` file, for server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        tonic::include_file_descriptor_set!("takedown_descriptor");
}
pub mod domain;
