/// The product of `factors`, or nil when it overflows Int. Sizes that come from files are
/// multiplied with this: a plain `*` would trap (a crash, where the file deserves an error that
/// names what is wrong), and in the -Ounchecked engine it would wrap silently.
func checkedProduct(_ factors: [Int]) -> Int? {
    var product = 1
    for factor in factors {
        let (result, overflow) = product.multipliedReportingOverflow(by: factor)
        if overflow { return nil }
        product = result
    }
    return product
}
