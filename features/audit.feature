# language: vi
Tính năng: Kiểm toán nhật ký hồ sơ, dựng lại trạng thái và báo cáo
  Là kiểm toán viên của Sở Giáo dục và Đào tạo
  Tôi muốn chứng minh nhật ký hồ sơ không bị ai sửa, dựng lại trạng thái tại bất kỳ thời điểm nào
  Để tin được sổ theo dõi, báo cáo định kỳ và bộ chỉ số theo Quyết định 766

  Bối cảnh:
    Cho thời điểm hiện tại là "2026-03-02 09:00"
    Và chưa có niêm phong nhật ký nào
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "diploma_copy" với người nộp "Nguyễn Văn An"
    Và thời gian trôi tới "2026-03-02 09:30"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2"]}
      """
    Và thời gian trôi tới "2026-03-02 10:30"
    Và chuyên viên hoàn thành bước "verify_register" với dữ liệu:
      """
      {"found": true, "register_ref": "Sổ gốc 2015, số 1234", "copies": 2}
      """

  Kịch bản: Sửa trực tiếp người thực hiện một sự kiện trong cơ sở dữ liệu bị phát hiện
    Thì kiểm tra toàn vẹn nhật ký không phát hiện sai lệch
    Khi có người sửa trực tiếp trong cơ sở dữ liệu người thực hiện sự kiện số 3 thành "director"
    Thì kiểm tra toàn vẹn nhật ký báo hồ sơ sai lệch tại sự kiện số 3
    Và lệnh "audit verify --all" kết thúc với mã lỗi 6

  Kịch bản: Xoá cả hồ sơ sau khi đã niêm phong cuối ngày bị phát hiện
    Khi thời gian trôi tới "2026-03-03 08:00"
    Và hệ thống niêm phong nhật ký ngày "2026-03-02"
    Thì kiểm tra toàn vẹn nhật ký không phát hiện sai lệch
    Khi có người xoá trực tiếp toàn bộ hồ sơ trong cơ sở dữ liệu
    Thì kiểm tra toàn vẹn nhật ký báo hồ sơ đã mất

  Kịch bản: Dựng lại trạng thái hồ sơ tại một sự kiện bất kỳ chỉ từ nhật ký
    Khi thời gian trôi tới "2026-03-02 14:00"
    Và lãnh đạo phòng hoàn thành bước "approve_copy" với dữ liệu:
      """
      {"approved": true}
      """
    Và cán bộ một cửa hoàn thành bước "return_result" với dữ liệu:
      """
      {"method": "electronic", "returned_to": "Nguyễn Văn An"}
      """
    Thì dựng lại hồ sơ tại sự kiện bước "verify_register" sẵn sàng thấy trạng thái 4 và công việc đang mở là "verify_register" của vai trò "specialist"
    Và dựng lại hồ sơ tại sự kiện cuối khớp với trạng thái hệ thống đang lưu

  Kịch bản: Sổ theo dõi hồ sơ và bộ chỉ số 766 lấy từ nhật ký
    Khi thời gian trôi tới "2026-03-02 14:00"
    Và lãnh đạo phòng hoàn thành bước "approve_copy" với dữ liệu:
      """
      {"approved": true}
      """
    Và cán bộ một cửa hoàn thành bước "return_result" với dữ liệu:
      """
      {"method": "electronic", "returned_to": "Nguyễn Văn An"}
      """
    # Bản sao văn bằng trả trong ngày: có kết quả 14:00 ngày 02/03, hẹn 17:00 cùng ngày → đúng hạn.
    Thì sổ theo dõi hồ sơ từ "2026-03-01" đến "2026-03-31" ghi hồ sơ với tình trạng "Đã trả kết quả" và ghi chú "Đúng hạn"
    Và báo cáo quý I năm 2026 theo mốc ngày 15 có 1 hồ sơ giải quyết đúng hạn
    Và bộ chỉ số 766 từ "2026-03-01" đến "2026-03-31" có chỉ số "2.1" đạt 100 % và 20 điểm
