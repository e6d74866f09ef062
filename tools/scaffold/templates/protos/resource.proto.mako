// The ${p} API.
//
// A resource with the standard methods of Google's API Improvement Proposals: Create, Get, List
// with page tokens, Update with an update_mask and Delete (AIP-131..135, 158). Enum values carry
// their type's prefix and start with an `*_UNSPECIFIED = 0` value; the generated Python enums
// drop the prefix.
syntax = "proto3";

package ${p}.v1;

import "google/protobuf/empty.proto";
import "google/protobuf/field_mask.proto";
import "google/protobuf/timestamp.proto";

service ${S}Service {
  // Creates a ${human}.
  rpc Create${S}(Create${S}Request) returns (${S});
  // Gets one ${human} by name. NOT_FOUND if there is none.
  rpc Get${S}(Get${S}Request) returns (${S});
  // Lists ${humans}, oldest first.
  rpc List${P}(List${P}Request) returns (List${P}Response);
  // Changes the fields named in `update_mask`.
  rpc Update${S}(Update${S}Request) returns (${S});
  // Deletes a ${human}. NOT_FOUND if there is none.
  rpc Delete${S}(Delete${S}Request) returns (google.protobuf.Empty);
}

// Where a ${human} is in its life.
enum ${S}State {
  ${STATE}_UNSPECIFIED = 0;
  ${STATE}_ACTIVE = 1;
  ${STATE}_ARCHIVED = 2;
}

message ${S} {
  // Resource name, `${collection}/{id}`. Output only.
  string name = 1;
  // What people see it as. Required.
  string display_name = 2;
  // ACTIVE when not given on create.
  ${S}State state = 3;
  // Output only.
  google.protobuf.Timestamp create_time = 4;
  // Output only.
  google.protobuf.Timestamp update_time = 5;
}

message Create${S}Request {
  ${S} ${s} = 1;
}

message Get${S}Request {
  // `${collection}/{id}`
  string name = 1;
}

message List${P}Request {
  // At most this many results; 0 means the server's default, larger values are capped.
  int32 page_size = 1;
  // `next_page_token` of a previous response; empty for the first page.
  string page_token = 2;
}

message List${P}Response {
  repeated ${S} ${p} = 1;
  // Empty on the last page.
  string next_page_token = 2;
}

message Update${S}Request {
  // `${s}.name` selects the ${human} to change.
  ${S} ${s} = 1;
  // The fields to change: `display_name`, `state`; `*` for both. Without a mask, the fields
  // that are set.
  google.protobuf.FieldMask update_mask = 2;
}

message Delete${S}Request {
  // `${collection}/{id}`
  string name = 1;
}
