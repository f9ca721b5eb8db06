import * as echarts from 'echarts';
const c = echarts.init(null, null, { renderer: 'svg', ssr: true, width: 600, height: 300 });
c.setOption({ animation:false, xAxis:{type:'value', name:'x'}, yAxis:{type:'log'}, series:[{type:'line', data:[[1,2],[2,5],[4,30]]}] });
const s = c.renderToSVGString(); console.log(s.length, s.slice(0,200));
