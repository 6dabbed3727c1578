using System.Collections.Concurrent;
using System.Text.Json;
using Google.Protobuf;
using Platform.LiveKit.Ffi.Avatar;
using Platform.LiveKit.Ffi.Media;
using Platform.LiveKit.Ffi.Proto;
using Platform.LiveKit.Ffi.Rooms;
using Platform.Render.Audio;

namespace Platform.LiveKit.Ffi.Tests;

/// <summary>
/// Avatar mode driven through the worker's FFI data paths: byte-stream and RPC events in the library's wire format go
/// through FfiClient → LiveKitRoom → AvatarSession; what the session asks of the library is checked request by request.
/// </summary>
[Collection(FfiCollection.Name)]
public sealed class AvatarSessionTests
{
    private const string Agent = "agent-7";

    [Fact]
    public async Task A_byte_stream_segment_is_resampled_played_and_reported_started_then_finished()
    {
        var library = new RecordedLibrary();
        var before = FfiHandle.Outstanding;
        var sink = new RecordingSink();
        await using (var room = await LiveKitRoom.ConnectAsync(library.Client, "wss://tenant.livekit.cloud", "worker-token", null, CancellationToken.None))
        await using (var session = new AvatarSession(room, sink, Agent))
        {
            await session.StartAsync();
            Assert.Contains(library.Sent(r => r.RegisterRpcMethod), m => m.Method == AvatarProtocol.ClearBufferMethod && m.LocalParticipantHandle == library.LocalParticipantHandle);

            // Half a second of a 24 kHz tone, cut into chunks that split samples.
            var pcm = Tone(24_000, 0.5, 300);
            var reader = OpenStream(library, "seg-1", 24_000, 1);
            foreach (var chunk in Chunks(pcm, 1_001)) SendChunk(library, reader, chunk);
            EndStream(library, reader);

            await Eventually.WaitAsync(() => Finished(library).Any(), "lk.playback_finished is sent");
            var started = library.Sent(r => r.PerformRpc).Where(p => p.Method == AvatarProtocol.PlaybackStartedMethod).ToList();
            Assert.Single(started);
            Assert.Equal(Agent, started[0].DestinationIdentity);
            var finished = Assert.Single(Finished(library));
            Assert.Equal(Agent, finished.Request.DestinationIdentity);
            Assert.False(finished.Payload.Interrupted);
            Assert.InRange(finished.Payload.PlaybackPosition, 0.49, 0.51);
            Assert.Equal([AvatarProtocol.PlaybackStartedMethod, AvatarProtocol.PlaybackFinishedMethod], library.Sent(r => r.PerformRpc).Select(p => p.Method));

            Assert.Contains(library.Sent(r => r.ByteReadIncremental), r => r.ReaderHandle == reader);
            Assert.InRange(sink.TotalSamples, 23_900, 24_100); // 0.5 s at 48 kHz
            Assert.All(sink.Frames.SkipLast(1), f => Assert.Equal(960, f));
            Assert.InRange(sink.Rms, 0.9 * Rms(pcm), 1.1 * Rms(pcm));
            Assert.Equal((1, 0), session.Segments);
        }
        Assert.Equal(before, FfiHandle.Outstanding);
        Assert.Contains(library.Sent(r => r.Disconnect), d => d.RoomHandle == library.RoomHandle);
    }

    [Fact]
    public async Task Clear_buffer_interrupts_the_segment_answers_ok_and_reports_the_played_position()
    {
        var library = new RecordedLibrary();
        var sink = new RecordingSink();
        await using var room = await LiveKitRoom.ConnectAsync(library.Client, "wss://tenant.livekit.cloud", "worker-token", null, CancellationToken.None);
        await using var session = new AvatarSession(room, sink, Agent);
        await session.StartAsync();

        var reader = OpenStream(library, "seg-1", 16_000, 2);
        var stereo = Interleave(Tone(16_000, 0.3, 200));
        foreach (var chunk in Chunks(stereo, 640)) SendChunk(library, reader, chunk);
        await Eventually.WaitAsync(() => sink.TotalSamples >= 14_000, "0.3 s of the segment reaches the sink");

        ClearBuffer(library, 77);
        await Eventually.WaitAsync(() => Finished(library).Any(), "lk.playback_finished follows the interruption");
        var answer = Assert.Single(library.Sent(r => r.RpcMethodInvocationResponse));
        Assert.Equal(77UL, answer.InvocationId);
        Assert.Equal("ok", answer.Payload);
        Assert.Null(answer.Error);
        Assert.Equal(1, sink.Clears);
        var interrupted = Assert.Single(Finished(library)).Payload;
        Assert.True(interrupted.Interrupted);
        Assert.Equal(Math.Round(sink.PlayedAtClear.TotalSeconds, 3), interrupted.PlaybackPosition);

        // The rest of the interrupted stream is dropped; the next segment plays normally.
        var pushedAtClear = sink.TotalSamples;
        foreach (var chunk in Chunks(stereo, 640)) SendChunk(library, reader, chunk);
        EndStream(library, reader);
        var next = OpenStream(library, "seg-2", 48_000, 1);
        SendChunk(library, next, Tone(48_000, 0.1, 500));
        EndStream(library, next);
        await Eventually.WaitAsync(() => Finished(library).Count() == 2, "the second segment finishes");
        var second = Finished(library).Last().Payload;
        Assert.False(second.Interrupted);
        Assert.Equal(0.1, second.PlaybackPosition);
        Assert.Equal(pushedAtClear + 4_800, sink.TotalSamples);
        Assert.Equal((1, 1), session.Segments);
    }

    [Fact]
    public async Task The_next_segment_is_received_while_one_plays_and_the_agent_hears_of_each_in_order()
    {
        var library = new RecordedLibrary();
        var sink = new RecordingSink(instant: false);
        await using var room = await LiveKitRoom.ConnectAsync(library.Client, "wss://tenant.livekit.cloud", "worker-token", null, CancellationToken.None);
        await using var session = new AvatarSession(room, sink, Agent);
        await session.StartAsync();

        foreach (var (id, seconds) in new[] { ("seg-1", 0.2), ("seg-2", 0.1) })
        {
            var reader = OpenStream(library, id, 24_000, 1);
            SendChunk(library, reader, Tone(24_000, seconds, 300));
            EndStream(library, reader);
        }

        // Both segments are in the sink before the first one has even started: the second plays right after the first.
        await Eventually.WaitAsync(() => sink.EndedSegments == 2, "both segments are pushed and ended");
        Assert.Equal(14_400, sink.TotalSamples);
        Assert.Empty(library.Sent(r => r.PerformRpc));

        var (first, second) = (sink.Begun[0], sink.Begun[1]);
        first.Start();
        await Eventually.WaitAsync(() => library.Sent(r => r.PerformRpc).Count() == 1, "the first segment is reported started");
        second.Start(); // (it cannot have started before the first ended; reported in order regardless)
        second.End(TimeSpan.FromSeconds(0.1), interrupted: false);
        await Task.Delay(50);
        Assert.Single(library.Sent(r => r.PerformRpc)); // nothing of the second before the first has ended
        first.End(TimeSpan.FromSeconds(0.2), interrupted: false);
        await Eventually.WaitAsync(() => Finished(library).Count() == 2, "both segments are reported finished");

        Assert.Equal([AvatarProtocol.PlaybackStartedMethod, AvatarProtocol.PlaybackFinishedMethod, AvatarProtocol.PlaybackStartedMethod, AvatarProtocol.PlaybackFinishedMethod],
            library.Sent(r => r.PerformRpc).Select(p => p.Method));
        Assert.Equal([(0.2, false), (0.1, false)], Finished(library).Select(f => (f.Payload.PlaybackPosition, f.Payload.Interrupted)));
        Assert.Equal((2, 0), session.Segments);
    }

    [Fact]
    public async Task A_clear_cuts_the_playing_segment_and_drops_the_queued_ones_each_reported_once()
    {
        var library = new RecordedLibrary();
        var sink = new RecordingSink(instant: false) { HeardAtClear = TimeSpan.FromSeconds(0.15) };
        await using var room = await LiveKitRoom.ConnectAsync(library.Client, "wss://tenant.livekit.cloud", "worker-token", null, CancellationToken.None);
        await using var session = new AvatarSession(room, sink, Agent);
        await session.StartAsync();

        var readers = new[] { "seg-1", "seg-2" }.Select(id => OpenStream(library, id, 24_000, 1)).ToList();
        foreach (var reader in readers)
        {
            SendChunk(library, reader, Tone(24_000, 0.3, 300));
            EndStream(library, reader);
        }
        await Eventually.WaitAsync(() => sink.EndedSegments == 2, "both segments are pushed and ended");
        sink.Begun[0].Start();
        await Eventually.WaitAsync(() => library.Sent(r => r.PerformRpc).Count() == 1, "the first segment is reported started");

        // A third segment is still arriving when the agent clears.
        var third = OpenStream(library, "seg-3", 24_000, 1);
        SendChunk(library, third, Tone(24_000, 0.1, 300));
        await Eventually.WaitAsync(() => sink.Begun.Count == 3 && sink.TotalSamples > 2 * 14_400, "the third segment is being pushed");
        ClearBuffer(library, 78);
        await Eventually.WaitAsync(() => Finished(library).Count() == 3, "every segment sent is reported once");
        Assert.Equal("ok", Assert.Single(library.Sent(r => r.RpcMethodInvocationResponse)).Payload);
        Assert.Equal([(0.15, true), (0.0, true), (0.0, true)], Finished(library).Select(f => (f.Payload.PlaybackPosition, f.Payload.Interrupted)));
        Assert.Single(library.Sent(r => r.PerformRpc), p => p.Method == AvatarProtocol.PlaybackStartedMethod); // the dropped ones never started

        // The rest of the third stream is read and dropped; a segment sent after the clear plays.
        var pushed = sink.TotalSamples;
        SendChunk(library, third, Tone(24_000, 0.1, 300));
        EndStream(library, third);
        var next = OpenStream(library, "seg-4", 24_000, 1);
        SendChunk(library, next, Tone(24_000, 0.05, 300));
        EndStream(library, next);
        await Eventually.WaitAsync(() => sink.EndedSegments == 3, "the segment after the clear is pushed and ended");
        Assert.Equal(pushed + 2_400, sink.TotalSamples);
        Assert.Equal(4, sink.Begun.Count);
        Assert.Equal((0, 3), session.Segments);
    }

    [Fact]
    public async Task Streams_on_other_topics_or_from_other_participants_are_not_played()
    {
        var library = new RecordedLibrary();
        var sink = new RecordingSink();
        await using var room = await LiveKitRoom.ConnectAsync(library.Client, "wss://tenant.livekit.cloud", "worker-token", null, CancellationToken.None);
        await using var session = new AvatarSession(room, sink, Agent);
        await session.StartAsync();

        var other = OpenStream(library, "chat-1", 24_000, 1, topic: "lk.chat");
        SendChunk(library, other, Tone(24_000, 0.1, 300));
        EndStream(library, other);
        var stranger = OpenStream(library, "seg-x", 24_000, 1, from: "someone-else");
        SendChunk(library, stranger, Tone(24_000, 0.1, 300));
        EndStream(library, stranger);
        var mine = OpenStream(library, "seg-1", 24_000, 1);
        SendChunk(library, mine, Tone(24_000, 0.02, 300));
        EndStream(library, mine);

        await Eventually.WaitAsync(() => Finished(library).Any(), "the agent's own segment finishes");
        Assert.Equal(960, sink.TotalSamples);
    }

    [Fact]
    public async Task Room_events_decode_participants_data_packets_and_disconnection_and_drop_every_handle()
    {
        var library = new RecordedLibrary();
        var before = FfiHandle.Outstanding;
        var room = await LiveKitRoom.ConnectAsync(library.Client, "wss://tenant.livekit.cloud", "worker-token", null, CancellationToken.None);
        Assert.Equal("tenant-room", room.Name);
        Assert.Equal(RecordedLibrary.LocalIdentity, room.LocalIdentity);
        Assert.Contains(library.Sent(r => r.ReadyForRoomEvent), r => r.RoomHandle == library.RoomHandle);

        var userHandle = library.NextHandle();
        library.EmitRoomEvent(new RoomEvent
        {
            ParticipantConnected = new ParticipantConnected
            {
                Info = new OwnedParticipant { Handle = new FfiOwnedHandle { Id = userHandle }, Info = new ParticipantInfo { Identity = "user-1", Name = "Ada", Kind = ParticipantKind.Standard } },
            },
        });
        var json = """{"message_type":"conversation","event_type":"conversation.respond","conversation_id":"c1","properties":{"text":"hi"}}"""u8.ToArray();
        var bufferHandle = library.NextHandle();
        unsafe
        {
            fixed (byte* p = json)
            {
                library.EmitRoomEvent(new RoomEvent
                {
                    DataPacketReceived = new DataPacketReceived
                    {
                        Kind = DataPacketKind.KindReliable,
                        ParticipantIdentity = "user-1",
                        User = new UserPacket
                        {
                            Topic = LiveKitMediaSink.InteractionsTopic,
                            Data = new OwnedBuffer { Handle = new FfiOwnedHandle { Id = bufferHandle }, Data = new BufferInfo { DataPtr = (ulong)p, DataLen = (ulong)json.Length } },
                        },
                    },
                });
            }
        }
        library.EmitRoomEvent(new RoomEvent { Reconnecting = new Reconnecting() });
        library.EmitRoomEvent(new RoomEvent { Reconnected = new Reconnected() });
        library.EmitRoomEvent(new RoomEvent { ParticipantDisconnected = new ParticipantDisconnected { ParticipantIdentity = "user-1", DisconnectReason = DisconnectReason.ClientInitiated } });
        library.EmitRoomEvent(new RoomEvent { Disconnected = new Disconnected { Reason = DisconnectReason.RoomDeleted } });

        var events = new List<LiveKitRoomEvent>();
        await foreach (var ev in room.Events.ReadAllAsync()) events.Add(ev);
        Assert.Collection(events,
            e => Assert.Equal("Ada", Assert.IsType<ParticipantJoined>(e).Participant.Name),
            e =>
            {
                var data = Assert.IsType<DataReceived>(e);
                Assert.Equal(("user-1", LiveKitMediaSink.InteractionsTopic, true), (data.ParticipantIdentity, data.Topic, data.Reliable));
                Assert.Equal(json, data.Data);
            },
            e => Assert.IsType<ConnectionReconnecting>(e),
            e => Assert.IsType<ConnectionReconnected>(e),
            e => Assert.Equal(DisconnectReason.ClientInitiated, Assert.IsType<ParticipantLeft>(e).Reason),
            e => Assert.Equal(DisconnectReason.RoomDeleted, Assert.IsType<RoomDisconnected>(e).Reason));
        Assert.False(room.IsConnected);
        Assert.Equal(before, FfiHandle.Outstanding);
        await room.DisposeAsync(); // after a server-side disconnection: nothing left to do
        Assert.Empty(library.Sent(r => r.Disconnect));
    }

    [Fact]
    public async Task Through_a_conversation_link_in_avatar_mode_no_microphone_is_opened_and_the_agents_segments_play_on_every_join()
    {
        var library = new RecordedLibrary();
        var before = FfiHandle.Outstanding;
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var sink = new RecordingSink();
        var session = new AvatarSession(sink, Agent);
        var handler = new AvatarHandler(session);
        var options = new Conversations.LiveKitLinkOptions
        {
            Url = "wss://tenant.livekit.cloud",
            ConversationId = "c-avatar",
            AudioOnly = true,
            ListenToMicrophones = false,
            Token = _ => ValueTask.FromResult("tenant-token"),
        };
        var link = await Conversations.LiveKitConversationLink.StartAsync(library.Client, options, handler, clock, CancellationToken.None);
        Assert.Equal(1, handler.Joins);
        Assert.Single(library.Sent(r => r.RegisterRpcMethod), m => m.Method == AvatarProtocol.ClearBufferMethod);

        // The end user and the agent are standard participants of the tenant's room: nobody's microphone is opened.
        foreach (var who in new[] { "user-1", Agent })
        {
            library.EmitRoomEvent(new RoomEvent
            {
                ParticipantConnected = new ParticipantConnected
                {
                    Info = new OwnedParticipant { Handle = new FfiOwnedHandle { Id = library.NextHandle() }, Info = new ParticipantInfo { Identity = who, Kind = ParticipantKind.Standard } },
                },
            });
        }
        var pcm = Tone(24_000, 0.2, 300);
        var reader = OpenStream(library, "seg-1", 24_000, 1);
        foreach (var chunk in Chunks(pcm, 999)) SendChunk(library, reader, chunk);
        EndStream(library, reader);
        await Eventually.WaitAsync(() => Finished(library).Any(), "the segment is played and reported through the link's pump");
        Assert.Empty(library.Sent(r => r.AudioStreamFromParticipant));
        Assert.InRange(Finished(library).Single().Payload.PlaybackPosition, 0.19, 0.21);
        Assert.Contains(handler.Seen, e => e is ParticipantJoined { Participant.Identity: Agent });

        // Lost for good and rejoined: the clear-buffer method is registered on the new room too.
        library.EmitRoomEvent(new RoomEvent { Disconnected = new Disconnected { Reason = DisconnectReason.SignalClose } });
        await Eventually.WaitAsync(() =>
        {
            clock.Advance(TimeSpan.FromMilliseconds(100));
            return link.Joins == 2 && link.IsConnected;
        }, "the link rejoins");
        Assert.Equal(2, handler.Joins);
        Assert.Equal(2, library.Sent(r => r.RegisterRpcMethod).Count(m => m.Method == AvatarProtocol.ClearBufferMethod));

        await link.DisposeAsync();
        await session.DisposeAsync();
        Assert.Equal(before, FfiHandle.Outstanding);
    }

    /// <summary>What the worker's session does in avatar mode: hands the link's rooms and events to the avatar session.</summary>
    private sealed class AvatarHandler(AvatarSession session) : Conversations.ILiveKitConversationHandler, Conversations.ILiveKitRoomObserver
    {
        public int Joins;

        public ConcurrentQueue<LiveKitRoomEvent> Seen { get; } = new();

        public ValueTask OnMicrophoneAsync(string participantIdentity, PcmFrame frame, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("no microphone in avatar mode");

        public ValueTask OnMessageAsync(string participantIdentity, ReadOnlyMemory<byte> json, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask OnJoinedAsync(LiveKitRoom room, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Joins);
            session.Attach(room);
            session.StartSegments();
            return ValueTask.CompletedTask;
        }

        public async ValueTask OnRoomEventAsync(LiveKitRoomEvent roomEvent, CancellationToken cancellationToken)
        {
            Seen.Enqueue(roomEvent);
            await session.HandleAsync(roomEvent, cancellationToken);
        }
    }

    private static IEnumerable<(PerformRpcRequest Request, PlaybackFinished Payload)> Finished(RecordedLibrary library) =>
        library.Sent(r => r.PerformRpc).Where(p => p.Method == AvatarProtocol.PlaybackFinishedMethod)
            .Select(p => (p, JsonSerializer.Deserialize<PlaybackFinished>(p.Payload)!));

    /// <summary>The agent calls <c>lk.clear_buffer</c> on us, as the library delivers an RPC invocation.</summary>
    private static void ClearBuffer(RecordedLibrary library, ulong invocationId) => library.Emit(new FfiEvent
    {
        RpcMethodInvocation = new RpcMethodInvocationEvent
        {
            LocalParticipantHandle = library.LocalParticipantHandle,
            InvocationId = invocationId,
            Method = AvatarProtocol.ClearBufferMethod,
            RequestId = $"req-{invocationId}",
            CallerIdentity = Agent,
            Payload = "",
            ResponseTimeoutMs = 5_000,
        },
    });

    private static ulong OpenStream(RecordedLibrary library, string id, int rate, int channels, string topic = AvatarProtocol.AudioStreamTopic, string from = Agent)
    {
        var handle = library.NextHandle();
        var info = new ByteStreamInfo { StreamId = id, Topic = topic, MimeType = "application/octet-stream", Timestamp = 1_764_000_000_000 };
        info.Attributes[AvatarProtocol.SampleRateAttribute] = rate.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Attributes[AvatarProtocol.ChannelsAttribute] = channels.ToString(System.Globalization.CultureInfo.InvariantCulture);
        library.EmitRoomEvent(new RoomEvent
        {
            ByteStreamOpened = new ByteStreamOpened { Reader = new OwnedByteStreamReader { Handle = new FfiOwnedHandle { Id = handle }, Info = info }, ParticipantIdentity = from },
        });
        return handle;
    }

    private static void SendChunk(RecordedLibrary library, ulong reader, byte[] chunk) => library.Emit(new FfiEvent
    {
        ByteStreamReaderEvent = new ByteStreamReaderEvent { ReaderHandle = reader, ChunkReceived = new ByteStreamReaderChunkReceived { Content = ByteString.CopyFrom(chunk) } },
    });

    private static void EndStream(RecordedLibrary library, ulong reader) => library.Emit(new FfiEvent
    {
        ByteStreamReaderEvent = new ByteStreamReaderEvent { ReaderHandle = reader, Eos = new ByteStreamReaderEOS() },
    });

    private static byte[] Tone(int rate, double seconds, double hz)
    {
        var n = (int)Math.Round(rate * seconds);
        var bytes = new byte[n * 2];
        for (var i = 0; i < n; i++)
        {
            var v = (short)(9000 * Math.Sin(2 * Math.PI * hz * i / rate));
            bytes[2 * i] = (byte)v;
            bytes[2 * i + 1] = (byte)(v >> 8);
        }
        return bytes;
    }

    private static byte[] Interleave(byte[] mono)
    {
        var stereo = new byte[mono.Length * 2];
        for (var i = 0; i < mono.Length / 2; i++)
        {
            stereo[4 * i] = stereo[4 * i + 2] = mono[2 * i];
            stereo[4 * i + 1] = stereo[4 * i + 3] = mono[2 * i + 1];
        }
        return stereo;
    }

    private static IEnumerable<byte[]> Chunks(byte[] data, int size)
    {
        for (var i = 0; i < data.Length; i += size) yield return data[i..Math.Min(data.Length, i + size)];
    }

    private static double Rms(byte[] pcm)
    {
        double sum = 0;
        for (var i = 0; i < pcm.Length / 2; i++)
        {
            double v = (short)(pcm[2 * i] | (pcm[2 * i + 1] << 8));
            sum += v * v;
        }
        return Math.Sqrt(sum / (pcm.Length / 2));
    }

    /// <summary>
    /// A sink that checks what it is given. Instant, it plays a segment as it arrives (started on its first frame,
    /// ended at its end with the audio pushed); held, the test starts and ends each playout itself.
    /// </summary>
    private sealed class RecordingSink(bool instant = true) : IAvatarAudioSink
    {
        private readonly Lock gate = new();
        private readonly List<short> all = [];
        private readonly List<SegmentPlayout> begun = [];
        private SegmentPlayout? current;
        private long segmentSamples;

        public List<int> Frames { get; } = [];

        public int TotalSamples
        {
            get
            {
                lock (gate) return all.Count;
            }
        }

        /// <summary>Segments begun, in order.</summary>
        public IReadOnlyList<SegmentPlayout> Begun
        {
            get
            {
                lock (gate) return [.. begun];
            }
        }

        /// <summary>Segments the session ended (all their audio pushed).</summary>
        public int EndedSegments { get; private set; }

        public int Clears { get; private set; }

        public TimeSpan PlayedAtClear { get; private set; }

        /// <summary>Held: what the playing segment had played when a clear cut it.</summary>
        public TimeSpan HeardAtClear { get; set; }

        public double Rms
        {
            get
            {
                lock (gate) return Math.Sqrt(all.Sum(s => (double)s * s) / all.Count);
            }
        }

        public SegmentPlayout BeginSegment()
        {
            lock (gate)
            {
                Assert.Null(current); // one segment at a time is pushed
                current = new SegmentPlayout();
                begun.Add(current);
                segmentSamples = 0;
                return current;
            }
        }

        public ValueTask PushSegmentAudioAsync(PcmFrame frame, CancellationToken cancellationToken)
        {
            Assert.Equal(AudioFormat.Output48k, frame.Format);
            lock (gate)
            {
                Assert.NotNull(current);
                Assert.Equal(AudioFormat.Output48k.DurationOf(segmentSamples), frame.Timestamp);
                all.AddRange(frame.Samples.ToArray());
                Frames.Add(frame.Length);
                segmentSamples += frame.Length;
                if (instant) current.Start();
            }
            frame.Dispose();
            return ValueTask.CompletedTask;
        }

        public ValueTask EndSegmentAsync(CancellationToken cancellationToken)
        {
            lock (gate)
            {
                Assert.NotNull(current);
                if (instant)
                {
                    current.Start();
                    current.End(AudioFormat.Output48k.DurationOf(segmentSamples), interrupted: false);
                }
                current = null;
                EndedSegments++;
                return ValueTask.CompletedTask;
            }
        }

        public ValueTask ClearAsync(CancellationToken cancellationToken)
        {
            lock (gate)
            {
                Clears++;
                PlayedAtClear = instant ? AudioFormat.Output48k.DurationOf(segmentSamples) : HeardAtClear;
                foreach (var playout in begun.Where(p => !p.IsEnded))
                {
                    playout.End(playout.HasStarted ? PlayedAtClear : TimeSpan.Zero, interrupted: true);
                }
                current = null;
                return ValueTask.CompletedTask;
            }
        }
    }
}
