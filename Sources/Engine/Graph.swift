// The localizer graph, built from the architecture alone: a flat list of ops over virtual
// buffers, plus the list of convolutions (with the tensor names they fold) in graph order.
//
// Activations are stored channel-major with the batch inside: C x (N x H x W) ("CNHW"). Every
// channel is one contiguous row of N*H*W floats, so
//   * a convolution over the whole batch is one GEMM, out[Cout x NHW] = W[Cout x K] * B[K x NHW],
//     and a 1x1 stride-1 conv needs no im2col at all (B is the input itself);
//   * concat is free: a conv reads its input channels one row at a time (im2col, Winograd input
//     transform), so a decoder conv takes two inputs — the upsampled features for channels
//     [0, Cup) and the skip feature, where the encoder left it, for [Cup, Cup + Cskip). Nothing is
//     copied, and no buffer has to hold space for the upsampled half while the encoder runs.
// A `Ref` names channels [ch0, ch0 + c) of a buffer; its address depends on the batch size n of
// the run (ch0 * n*h*w), so one plan serves any n up to the planned batch.
//
struct Ref {
    var buf: Int
    var ch0: Int
    var c: Int
    var h: Int
    var w: Int
}

struct BufferSpec {
    var channels: Int
    var h: Int
    var w: Int
}

/// One convolution with its BatchNorm (or bias) to fold, and where its tensors are in the file.
struct ConvSpec {
    var weight: String      // "<prefix>.weight" of the conv
    var bn: String?         // BatchNorm prefix, folded into weight/bias at load
    var bias: String?       // conv bias (the logit head)
    var cout: Int
    var cin: Int
    var k: Int
    var stride: Int
    var pad: Int
    /// Output plane (h*w) at the size the graph was built for; the loader picks kernels by it.
    var plane: Int
}

enum Op {
    /// out = act(conv(concat(in, in2)) + bias [+ out if accumulate]); in2 is the decoder's skip.
    case conv(layer: Int, input: Ref, input2: Ref?, output: Ref, relu: Bool, accumulate: Bool)
    /// 2x2 stride-2 average pool; `ceil`: ceil_mode with count_include_pad=False (avg-down shortcut),
    /// else floor mode (the reference stem's F.avg_pool2d(2, 2)).
    case avgPool(input: Ref, output: Ref, ceil: Bool)
    /// 3x3 stride-2 pad-1 max pool (timm's stem pool).
    case maxPool(input: Ref, output: Ref)
    /// Nearest-neighbour 2x upsample.
    case upsample(input: Ref, output: Ref)
    case copy(input: Ref, output: Ref)
}

struct Graph {
    var convs: [ConvSpec] = []
    var ops: [Op] = []
    var buffers: [BufferSpec] = []
    var input: Ref! = nil
    var logits: Ref! = nil

    /// Output size of a conv or pool along one axis.
    static func outSize(_ n: Int, k: Int, stride: Int, pad: Int, ceil: Bool = false) -> Int {
        let span = n + 2 * pad - k
        return (ceil ? (span + stride - 1) / stride : span / stride) + 1
    }

    mutating func newBuffer(_ c: Int, _ h: Int, _ w: Int) -> Ref {
        buffers.append(BufferSpec(channels: c, h: h, w: w))
        return Ref(buf: buffers.count - 1, ch0: 0, c: c, h: h, w: w)
    }

    /// Appends a conv op; `output` nil makes a new buffer. Returns the output.
    @discardableResult
    mutating func conv(_ x: Ref, _ weight: String, bn: String?, bias: String? = nil, cout: Int, k: Int,
                       stride: Int = 1, relu: Bool, into output: Ref? = nil, accumulate: Bool = false,
                       skip: Ref? = nil) -> Ref {
        let pad = k / 2
        let oh = Graph.outSize(x.h, k: k, stride: stride, pad: pad)
        let ow = Graph.outSize(x.w, k: k, stride: stride, pad: pad)
        let out = output ?? newBuffer(cout, oh, ow)
        precondition(out.c == cout && out.h == oh && out.w == ow, "graph: \(weight) output shape mismatch")
        if let s = skip { precondition(s.h == x.h && s.w == x.w && k > 1, "graph: \(weight) skip shape") }
        convs.append(ConvSpec(weight: weight, bn: bn, bias: bias, cout: cout, cin: x.c + (skip?.c ?? 0), k: k,
                              stride: stride, pad: pad, plane: oh * ow))
        ops.append(.conv(layer: convs.count - 1, input: x, input2: skip, output: out, relu: relu, accumulate: accumulate))
        return out
    }

    /// The whole network for an input of height x width (multiples of 32).
    init(_ a: Architecture, height: Int, width: Int) {
        let e = a.encoder
        let E = a.encoderChannels                       // stem, stage1..4
        let D = a.decoder.widths
        let ins = [E[4], D[0], D[1], D[2], D[3]]        // decoder block inputs
        input = newBuffer(3, height, width)

        // Stem -> f0 (decoder block 3's skip).
        let inplanes = e.widths[0]
        let f0: Ref
        switch e.stem {
        case .deep:
            let sw = e.stemWidth
            var x = conv(input, "encoder.conv1.0.weight", bn: "encoder.conv1.1", cout: sw, k: 3, stride: 2, relu: true)
            x = conv(x, "encoder.conv1.3.weight", bn: "encoder.conv1.4", cout: sw, k: 3, relu: true)
            f0 = conv(x, "encoder.conv1.6.weight", bn: "encoder.bn1", cout: inplanes, k: 3, relu: true)
        case .plain:
            f0 = conv(input, "encoder.conv1.weight", bn: "encoder.bn1", cout: inplanes, k: 7, stride: 2, relu: true)
        }

        // Stage trunks: the outputs of stages 1-3 stay where they are as the skips of decoder blocks
        // 2, 1, 0; stage 4's is the decoder's input.
        let expansion = e.expansion
        var trunks: [Ref] = []
        func trunk(_ i: Int, h: Int, w: Int) -> Ref {
            if i < trunks.count { return trunks[i] }
            trunks.append(newBuffer(e.widths[i] * expansion, h, w))
            return trunks[i]
        }
        let firstNeedsDownsample = inplanes != e.widths[0] * expansion

        // Stem pool. When stage 1 keeps the width (basic blocks), its first block has an identity
        // shortcut: pool straight into the stage-1 trunk instead of copying.
        var x: Ref
        switch e.stemPool {
        case .avg:
            let oh = Graph.outSize(f0.h, k: 2, stride: 2, pad: 0), ow = Graph.outSize(f0.w, k: 2, stride: 2, pad: 0)
            x = firstNeedsDownsample ? newBuffer(inplanes, oh, ow) : trunk(0, h: oh, w: ow)
            ops.append(.avgPool(input: f0, output: x, ceil: false))
        case .max:
            let oh = Graph.outSize(f0.h, k: 3, stride: 2, pad: 1), ow = Graph.outSize(f0.w, k: 3, stride: 2, pad: 1)
            x = firstNeedsDownsample ? newBuffer(inplanes, oh, ow) : trunk(0, h: oh, w: ow)
            ops.append(.maxPool(input: f0, output: x))
        }

        var cin = inplanes
        for i in 0..<4 {
            let planes = e.widths[i], out = planes * expansion
            let stride = i == 0 ? 1 : 2
            let oh = Graph.outSize(x.h, k: 3, stride: stride, pad: 1), ow = Graph.outSize(x.w, k: 3, stride: stride, pad: 1)
            let t = trunk(i, h: oh, w: ow)
            for b in 0..<e.layers[i] {
                let p = "encoder.layer\(i + 1).\(b)"
                let s = b == 0 ? stride : 1
                if b == 0 {
                    if s != 1 || cin != out {
                        // The shortcut goes into the trunk; the block's last conv accumulates onto it.
                        if e.avgDown {
                            var src = x
                            if s > 1 {
                                let ph = Graph.outSize(x.h, k: 2, stride: 2, pad: 0, ceil: true)
                                let pw = Graph.outSize(x.w, k: 2, stride: 2, pad: 0, ceil: true)
                                src = newBuffer(cin, ph, pw)
                                ops.append(.avgPool(input: x, output: src, ceil: true))
                            }
                            conv(src, "\(p).downsample.1.weight", bn: "\(p).downsample.2", cout: out, k: 1, relu: false, into: t)
                        } else {
                            conv(x, "\(p).downsample.0.weight", bn: "\(p).downsample.1", cout: out, k: 1, stride: s, relu: false, into: t)
                        }
                    } else if x.buf != t.buf || x.ch0 != t.ch0 {
                        ops.append(.copy(input: x, output: t))
                    }
                }
                switch e.block {
                case .bottleneck:
                    let t1 = conv(x, "\(p).conv1.weight", bn: "\(p).bn1", cout: planes, k: 1, relu: true)
                    let t2 = conv(t1, "\(p).conv2.weight", bn: "\(p).bn2", cout: planes, k: 3, stride: s, relu: true)
                    conv(t2, "\(p).conv3.weight", bn: "\(p).bn3", cout: out, k: 1, relu: true, into: t, accumulate: true)
                case .basic:
                    let t1 = conv(x, "\(p).conv1.weight", bn: "\(p).bn1", cout: planes, k: 3, stride: s, relu: true)
                    conv(t1, "\(p).conv2.weight", bn: "\(p).bn2", cout: out, k: 3, relu: true, into: t, accumulate: true)
                }
                x = t
                cin = out
            }
        }

        // U-Net decoder: upsample, then conv1 over [upsampled, skip] read in place.
        let skipRefs: [Ref?] = [trunks[2], trunks[1], trunks[0], f0, nil]
        var d = x
        for k in 0..<5 {
            let up = newBuffer(ins[k], d.h * 2, d.w * 2)
            ops.append(.upsample(input: d, output: up))
            let p = "decoder.block.\(k)"
            let t = conv(up, "\(p).conv1.0.weight", bn: "\(p).conv1.1", cout: D[k], k: 3, relu: true, skip: skipRefs[k])
            d = conv(t, "\(p).conv2.0.weight", bn: "\(p).conv2.1", cout: D[k], k: 3, relu: true)
        }
        logits = conv(d, "logit.weight", bn: nil, bias: "logit.bias", cout: a.numClasses, k: 1, relu: false)
    }
}
