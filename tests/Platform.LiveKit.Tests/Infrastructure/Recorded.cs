namespace Platform.LiveKit.Tests.Infrastructure;

/// <summary>
/// LiveKit server answers in their real wire form: Twirp JSON is written by protojson with proto field names
/// (snake_case), every field present (unset messages as null), 64-bit integers as strings and enums as names.
/// Written here by hand after that format; values from a two-party conversation room.
/// </summary>
public static class Recorded
{
    public const string Room = """
        {"sid":"RM_hyXtxsWbqK7a","name":"conv-7f3a9c","empty_timeout":300,"departure_timeout":20,"max_participants":2,
         "creation_time":"1795795200","creation_time_ms":"1795795200123","turn_password":"",
         "enabled_codecs":[{"mime":"audio/opus","fmtp_line":""},{"mime":"audio/red","fmtp_line":""},
                           {"mime":"video/VP8","fmtp_line":""},{"mime":"video/H264","fmtp_line":""}],
         "metadata":"{\"conversation\":\"c_123\",\"tenant\":\"t_9\"}","num_participants":0,"num_publishers":0,
         "active_recording":false,"version":{"unix_micro":"1795795200123456","ticks":0}}
        """;

    public const string RoomWithUpdatedMetadata = """
        {"sid":"RM_hyXtxsWbqK7a","name":"conv-7f3a9c","empty_timeout":300,"departure_timeout":20,"max_participants":2,
         "creation_time":"1795795200","creation_time_ms":"1795795200123","turn_password":"",
         "enabled_codecs":[{"mime":"audio/opus","fmtp_line":""},{"mime":"video/VP8","fmtp_line":""}],
         "metadata":"{\"state\":\"ending\"}","num_participants":2,"num_publishers":2,
         "active_recording":false,"version":{"unix_micro":"1795795260000001","ticks":3}}
        """;

    public const string ListRooms = "{\"rooms\":[" + Room + "," + """
        {"sid":"RM_Q2wd8kLmN0pz","name":"conv-0b12ee","empty_timeout":300,"departure_timeout":20,"max_participants":2,
         "creation_time":"1795791600","creation_time_ms":"1795791600999","turn_password":"","enabled_codecs":[],
         "metadata":"","num_participants":1,"num_publishers":1,"active_recording":true,"version":null}
        """ + "]}";

    public const string ListRoomsEmpty = """{"rooms":[]}""";

    public const string ListParticipants = """
        {"participants":[
          {"sid":"PA_2BsnD7KqJmX9","identity":"user-c_123","state":"ACTIVE",
           "tracks":[{"sid":"TR_AMkVbNf8rR3x","type":"AUDIO","name":"microphone","muted":false,"width":0,"height":0,
                      "simulcast":false,"disable_dtx":false,"source":"MICROPHONE","layers":[],"mime_type":"audio/red",
                      "mid":"1","codecs":[{"mime_type":"audio/red","mid":"1","cid":"TR_AMkVbNf8rR3x","layers":[],
                      "video_layer_mode":"MODE_UNUSED","sdp_cid":""}],"stereo":false,"disable_red":false,"encryption":"NONE",
                      "stream":"","version":{"unix_micro":"1795795205400000","ticks":0},
                      "audio_features":["TF_ECHO_CANCELLATION","TF_NOISE_SUPPRESSION","TF_AUTO_GAIN_CONTROL"],
                      "backup_codec_policy":"PREFER_REGRESSION","packet_trailer_features":[]}],
           "metadata":"","joined_at":"1795795205","joined_at_ms":"1795795205321","name":"Ada Lovelace","version":4,
           "permission":{"can_subscribe":true,"can_publish":true,"can_publish_data":true,
                         "can_publish_sources":["CAMERA","MICROPHONE"],"hidden":false,"recorder":false,
                         "can_update_metadata":false,"agent":false,"can_subscribe_metrics":false,
                         "can_manage_agent_session":false},
           "region":"eu-central","is_publisher":true,"kind":"STANDARD","attributes":{},"disconnect_reason":"UNKNOWN_REASON",
           "kind_details":[],"data_tracks":[],"client_protocol":1,"capabilities":[]},
          {"sid":"PA_9xYcVb3nMq1L","identity":"worker-r7/c_123","state":"ACTIVE",
           "tracks":[{"sid":"TR_VCx7pLq2Ws4e","type":"VIDEO","name":"replica-video","muted":false,"width":1280,"height":720,
                      "simulcast":false,"disable_dtx":false,"source":"CAMERA","layers":[],"mime_type":"video/VP8","mid":"0",
                      "codecs":[],"stereo":false,"disable_red":false,"encryption":"NONE","stream":"replica",
                      "version":null,"audio_features":[],"backup_codec_policy":"PREFER_REGRESSION","packet_trailer_features":[]},
                     {"sid":"TR_ACm3kQz8Yt5r","type":"AUDIO","name":"replica-audio","muted":true,"width":0,"height":0,
                      "simulcast":false,"disable_dtx":true,"source":"MICROPHONE","layers":[],"mime_type":"audio/opus","mid":"1",
                      "codecs":[],"stereo":true,"disable_red":true,"encryption":"NONE","stream":"replica",
                      "version":null,"audio_features":["TF_STEREO","TF_NO_DTX"],"backup_codec_policy":"PREFER_REGRESSION",
                      "packet_trailer_features":[]}],
           "metadata":"{\"replica\":\"r7\"}","joined_at":"1795795203","joined_at_ms":"1795795203002","name":"Replica",
           "version":9,"permission":{"can_subscribe":true,"can_publish":true,"can_publish_data":true,
                         "can_publish_sources":["CAMERA","MICROPHONE"],"hidden":false,"recorder":false,
                         "can_update_metadata":false,"agent":true,"can_subscribe_metrics":false,
                         "can_manage_agent_session":false},
           "region":"eu-central","is_publisher":true,"kind":"AGENT",
           "attributes":{"lk.publish_on_behalf":"user-c_123","lk.agent.state":"speaking"},
           "disconnect_reason":"UNKNOWN_REASON","kind_details":[],"data_tracks":[],"client_protocol":1,"capabilities":[]}]}
        """;

    public const string Empty = "{}";

    public const string NotFound = """{"code":"not_found","msg":"requested room does not exist","meta":{}}""";

    public const string InvalidArgument =
        """{"code":"invalid_argument","msg":"name is required","meta":{"argument":"name"}}""";

    public const string Internal = """{"code":"internal","msg":"could not create room: redis: connection refused"}""";

    public const string Unavailable = """{"code":"unavailable","msg":"no nodes available"}""";

    /// <summary>LiveKit's auth middleware answers a bad or expired token with 401 and plain text.</summary>
    public const string Unauthorized = "invalid token: go-jose/go-jose: error in cryptographic primitive\n";
}
