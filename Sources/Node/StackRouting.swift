import Analysis
import Records

extension Router {
    /// The stack of an enhanced multi-frame instance that routes the series and is analysed: the
    /// largest stack some rule routes for analysis (ties: the first), else the largest. So a T1
    /// stack or a short echo packed with the sagittal T2 stack neither hides it from the rules nor
    /// takes its place in the analysis.
    public var stackChoice: StackChoice {
        let router = self
        return { stacks in
            let routed = stacks.indices.filter { router.route(stacks[$0].descriptors).0 != .ignored }
            return EnhancedFrames.largest(of: stacks, among: routed.isEmpty ? Array(stacks.indices) : routed)
        }
    }
}
