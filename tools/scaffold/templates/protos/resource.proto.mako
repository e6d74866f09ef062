// The ${p} API.
//
// A resource with the standard methods of Google's API Improvement Proposals: Create, Get, List
// with page tokens, Update with an update_mask and Delete (AIP-131..135, 158). Enum values carry
// their type's prefix and start with an `*_UNSPECIFIED = 0` value; the generated Python enums
// drop the prefix.
//
// The `buf.validate` constraints state what service/${p}/convert.py checks; the server does not
// evaluate them (docs/api.md). `${S}` is shared by Create, Update and the responses, so what
// only Create requires is on Create${S}Request, and what depends on `update_mask` is not
// expressed.
syntax = "proto3";

package ${p}.v1;

import "buf/validate/validate.proto";
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
  // Resource name, `${collection}/{id}`. Output only: Update reads it, Create ignores it.
  string name = 1;
  // What people see it as. Required on create. The server trims it first, then checks: at
  // most 200 characters, no control or invisible format characters; the constraints check the
  // text as sent.
  string display_name = 2 [
    (buf.validate.field).ignore = IGNORE_IF_ZERO_VALUE,
    (buf.validate.field).string.max_len = 200,
    (buf.validate.field).string.pattern = "^[^\\p{Cc}\\p{Cf}]*[^\\s\\p{Z}\\p{Cc}\\p{Cf}][^\\p{Cc}\\p{Cf}]*$"
  ];
  // ACTIVE when not given on create.
  ${S}State state = 3 [(buf.validate.field).enum.defined_only = true];
  // Output only.
  google.protobuf.Timestamp create_time = 4;
  // Output only.
  google.protobuf.Timestamp update_time = 5;
}

message Create${S}Request {
  // Required, with a display name.
  ${S} ${s} = 1 [
    (buf.validate.field).required = true,
    (buf.validate.field).cel = {
      id: "${s}.display_name.required"
      message: "${s}.display_name is required"
      expression: "this.display_name != ''"
    }
  ];
}

message Get${S}Request {
  // `${collection}/{id}`, the id a lower-case [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}.
  string name = 1 [(buf.validate.field).string.pattern = "^${collection}/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"];
}

message List${P}Request {
  // At most this many results; 0 means the server's default (50), values over 1000 are capped
  // at 1000 rather than refused.
  int32 page_size = 1 [(buf.validate.field).int32.gte = 0];
  // `next_page_token` of a previous response; empty for the first page. Beyond its length,
  // only the server can tell a token it signed.
  string page_token = 2 [(buf.validate.field).string.max_len = 200];
}

message List${P}Response {
  repeated ${S} ${p} = 1;
  // Empty on the last page.
  string next_page_token = 2;
}

message Update${S}Request {
  // `${s}.name` selects the ${human} to change. The server checks the fields `update_mask`
  // names (or the populated ones) as Create does, which constraints cannot express.
  ${S} ${s} = 1;
  // The fields to change: `display_name`, `state`; `*` for both. Without a mask, the fields
  // that are set.
  google.protobuf.FieldMask update_mask = 2;
}

message Delete${S}Request {
  // `${collection}/{id}`, the id a lower-case [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}.
  string name = 1 [(buf.validate.field).string.pattern = "^${collection}/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"];
}
