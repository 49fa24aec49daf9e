import XCTest
@testable import Engine

final class MemoryPlanTests: XCTestCase {
    typealias Life = MemoryPlan.Lifetime

    /// No two buffers alive at the same time share a float; every buffer starts on a cache line.
    func assertSound(_ plan: MemoryPlan, file: StaticString = #filePath, line: UInt = #line) {
        let used = plan.sizes.indices.filter { plan.lifetimes[$0].last >= plan.lifetimes[$0].first }
        for a in used {
            XCTAssertEqual(plan.offsets[a] % 16, 0, "buffer \(a) not 64-byte aligned", file: file, line: line)
            XCTAssertLessThanOrEqual(plan.offsets[a] + plan.sizes[a], plan.activationFloats, file: file, line: line)
            for b in used where b > a && plan.lifetimes[a].overlaps(plan.lifetimes[b]) {
                let disjoint = plan.offsets[a] + plan.sizes[a] <= plan.offsets[b] || plan.offsets[b] + plan.sizes[b] <= plan.offsets[a]
                XCTAssertTrue(disjoint, "buffers \(a) and \(b) are alive together and overlap", file: file, line: line)
            }
        }
    }

    /// A chain: each buffer only meets its neighbours, so the first and third share memory.
    func testBuffersThatNeverMeetShareMemory() {
        let plan = MemoryPlan(sizes: [100, 100, 100], lifetimes: [Life(first: -1, last: 0), Life(first: 0, last: 1), Life(first: 1, last: 2)],
                              scratchFloatsPerPart: 32, parts: 2)
        assertSound(plan)
        XCTAssertEqual(plan.sizes, [112, 112, 112], "sizes round up to 16 floats")
        XCTAssertEqual(plan.offsets[0], plan.offsets[2])
        XCTAssertEqual(plan.activationFloats, 224)
        XCTAssertEqual(plan.arenaFloats, 224 + 2 * 32)
        XCTAssertEqual(plan.scratch(part: 1), 224 + 32)
    }

    /// A small buffer fills a gap left between larger ones; a buffer no op touches takes no space.
    func testGapsAreReusedAndUntouchedBuffersIgnored() {
        let plan = MemoryPlan(sizes: [64, 256, 64, 128, 512],
                              lifetimes: [Life(first: 0, last: 1), Life(first: 0, last: 3), Life(first: 2, last: 3),
                                          Life(first: 1, last: 2), Life(first: .max, last: -1)],
                              scratchFloatsPerPart: 0, parts: 1)
        assertSound(plan)
        XCTAssertEqual(plan.offsets[2], plan.offsets[0], "buffer 2 takes buffer 0's place once it is dead")
        XCTAssertEqual(plan.activationFloats, 256 + 128 + 64)
    }

    /// The real localizer graph: sound, and far smaller than every buffer side by side.
    func testLocalizerGraphPlan() throws {
        let model = try LocalizerModel(contentsOf: fixture("golden_basic.safetensors"))
        let session = try model.makeSession(batch: 3, threads: 2)
        let plan = session.plan
        assertSound(plan)
        XCTAssertLessThan(plan.activationFloats, plan.sizes.reduce(0, +) / 2)
        XCTAssertEqual(session.arenaBytes, plan.arenaFloats * 4)
        XCTAssertEqual(plan.parts, 2)
    }

    /// Each conv has a strategy that fits the planned scratch, and it follows the layer's shape.
    func testEveryConvHasAStrategyWithinTheScratch() throws {
        let model = try LocalizerModel(contentsOf: fixture("golden_basic.safetensors"), winogradMinPlane: 1)
        let session = try model.makeSession(batch: 2, threads: 1)
        let graph = Graph(model.metadata.architecture, height: session.height, width: session.width)
        var kinds = Set<String>()
        for (i, op) in graph.ops.enumerated() {
            guard case let .conv(l, _, _, y, _, _) = op else { XCTAssertNil(session.strategies[i]); continue }
            let layer = model.weights.layers[l]
            let (strategy, scratch) = ConvStrategy.plan(layer, output: y, batch: 2, parts: 1, budget: .init())
            XCTAssertEqual(session.strategies[i], strategy)
            XCTAssertLessThanOrEqual(scratch.gather + scratch.transposed, session.plan.scratchFloatsPerPart)
            switch strategy {
            case .winograd: XCTAssertTrue(layer.winograd); kinds.insert("winograd")
            case .pointwise: XCTAssertEqual(layer.spec.k, 1); kinds.insert("pointwise")
            case .im2col: XCTAssertFalse(layer.winograd); kinds.insert("im2col")
            }
        }
        XCTAssertEqual(kinds, ["winograd", "pointwise", "im2col"], "the fixture exercises every strategy")
    }
}
