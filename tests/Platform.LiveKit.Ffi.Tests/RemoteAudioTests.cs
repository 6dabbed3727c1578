using System.Runtime.InteropServices;
using Platform.LiveKit.Ffi.Proto;
using Platform.LiveKit.Ffi.Rooms;
using Platform.Render.Audio;

namespace Platform.LiveKit.Ffi.Tests;

/// <summary>The user's microphone as the worker hears it: the library's audio frames (16 kHz mono, as asked) into PcmFrames.</summary>
[Collection(FfiCollection.Name)]
public sealed class RemoteAudioTests
{
    [Fact]
    public async Task The_users_microphone_arrives_as_16_kHz_frames_on_the_streams_own_timeline_and_every_buffer_is_dropped()
    {
        var library = new RecordedLibrary();
        var before = FfiHandle.Outstanding;
        await using (var room = await LiveKitRoom.ConnectAsync(library.Client, "wss://livekit.example.com", "worker-token", null, CancellationToken.None))
        {
            library.EmitRoomEvent(new RoomEvent
            {
                ParticipantConnected = new ParticipantConnected
                {
                    Info = new OwnedParticipant { Handle = new FfiOwnedHandle { Id = library.NextHandle() }, Info = new ParticipantInfo { Identity = "user-1", Kind = ParticipantKind.Standard } },
                },
            });
            Assert.True(await room.Events.WaitToReadAsync());
            var joined = Assert.IsType<ParticipantJoined>(await room.Events.ReadAsync());

            using var stream = room.OpenAudioStream(joined.Participant, 16_000);
            var request = Assert.Single(library.Sent(r => r.AudioStreamFromParticipant));
            Assert.Equal((16_000u, 1u, TrackSource.SourceMicrophone, joined.Participant.Handle.Id),
                (request.SampleRate, request.NumChannels, request.TrackSource, request.ParticipantHandle));

            var native = Marshal.AllocHGlobal(320 * sizeof(short));
            try
            {
                for (var n = 0; n < 3; n++)
                {
                    var samples = Enumerable.Range(0, 320).Select(i => (short)(n * 1000 + i)).ToArray();
                    Marshal.Copy(samples, 0, native, samples.Length);
                    library.Emit(new FfiEvent
                    {
                        AudioStreamEvent = new AudioStreamEvent
                        {
                            StreamHandle = stream.Handle.Id,
                            FrameReceived = new AudioFrameReceived
                            {
                                Frame = new OwnedAudioFrameBuffer
                                {
                                    Handle = new FfiOwnedHandle { Id = library.NextHandle() },
                                    Info = new AudioFrameBufferInfo { DataPtr = (ulong)native, NumChannels = 1, SampleRate = 16_000, SamplesPerChannel = 320 },
                                },
                            },
                        },
                    });
                }
            }
            finally
            {
                Marshal.FreeHGlobal(native);
            }
            library.Emit(new FfiEvent { AudioStreamEvent = new AudioStreamEvent { StreamHandle = stream.Handle.Id, Eos = new AudioStreamEOS() } });

            var frames = new List<PcmFrame>();
            await foreach (var frame in stream.Frames.ReadAllAsync()) frames.Add(frame);
            Assert.Equal(3, frames.Count);
            for (var n = 0; n < 3; n++)
            {
                Assert.Equal(AudioFormat.Speech16k, frames[n].Format);
                Assert.Equal(TimeSpan.FromMilliseconds(20 * n), frames[n].Timestamp);
                Assert.Equal((short)(n * 1000), frames[n].Samples[0]);
                Assert.Equal((short)(n * 1000 + 319), frames[n].Samples[319]);
                frames[n].Dispose();
            }
        }
        Assert.Equal(before, FfiHandle.Outstanding);
    }
}
