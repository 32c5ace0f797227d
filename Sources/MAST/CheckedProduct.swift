/// The product of `factors`, or nil when it overflows Int. This module is built -Ounchecked,
/// where `*` wraps silently; sizes that come from files are multiplied with this instead.
func checkedProduct(_ factors: [Int]) -> Int? {
    var product = 1
    for factor in factors {
        let (result, overflow) = product.multipliedReportingOverflow(by: factor)
        if overflow { return nil }
        product = result
    }
    return product
}
